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
