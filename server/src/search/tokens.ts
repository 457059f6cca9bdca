/**
 * Token values of Coding, CodeableConcept, Identifier, ContactPoint and primitive
 * (code, boolean, string, uri, id) values, per R4 search "token". The display or
 * text is kept apart for :text and never matches a code.
 */
import type { TypedValue } from '@medplum/core';

export interface TokenRow {
  system: string | null;
  value: string | null;
  text: string | null;
}

export function tokensOf(values: TypedValue[]): TokenRow[] {
  const rows: TokenRow[] = [];
  for (const { type, value } of values) {
    if (value === undefined || value === null) continue;
    switch (type) {
      case 'CodeableConcept':
        for (const coding of value.coding ?? []) rows.push(coded(coding.system, coding.code, coding.display));
        if (value.text) rows.push({ system: null, value: null, text: value.text });
        break;
      case 'Coding':
        rows.push(coded(value.system, value.code, value.display));
        break;
      case 'Identifier':
        if (value.value !== undefined) rows.push(coded(value.system, value.value, value.type?.text));
        break;
      case 'ContactPoint':
        if (value.value !== undefined) rows.push(coded(value.system, value.value, undefined));
        break;
      default:
        if (typeof value === 'object') continue;
        rows.push({ system: null, value: String(value), text: null });
    }
  }
  return rows;
}

function coded(system: unknown, code: unknown, text: unknown): TokenRow {
  return {
    system: typeof system === 'string' ? system : null,
    value: code === undefined || code === null ? null : String(code),
    text: typeof text === 'string' ? text : null,
  };
}

/**
 * Modifiers answered from token rows derived at write time under their own code:
 * `param:identifier` (reference: the Reference.identifier) and `param:of-type`
 * (Identifier: its type coding's system, and "type-code|value").
 */
export const DERIVED_TOKEN_MODIFIERS = new Set(['identifier', 'of-type']);

export function derivedTokenCode(code: string, modifier: string): string {
  return `${code}:${modifier}`;
}

/** Token rows of Reference.identifier values. */
export function referenceIdentifierTokens(values: TypedValue[]): TokenRow[] {
  const rows: TokenRow[] = [];
  for (const { value } of values) {
    const identifier = value?.identifier;
    if (identifier?.value !== undefined) rows.push(coded(identifier.system, identifier.value, undefined));
  }
  return rows;
}

/** Token rows of Identifier types: system of the type coding, value "type-code|identifier-value". */
export function identifierTypeTokens(values: TypedValue[]): TokenRow[] {
  const rows: TokenRow[] = [];
  for (const { type, value } of values) {
    if (type !== 'Identifier' || value?.value === undefined) continue;
    for (const coding of value.type?.coding ?? []) {
      if (coding.system && coding.code)
        rows.push({ system: coding.system, value: `${coding.code}|${value.value}`, text: null });
    }
  }
  return rows;
}
