/**
 * Parses FHIR search parameters into a SearchRequest: each known parameter with
 * its definition, modifier and OR-values (comma) - repeated parameters AND.
 * Unknown parameters are collected apart so `self` can omit them and strict
 * handling can reject them.
 */
import { getSearchParameters } from '@medplum/core';
import type { SearchParameter } from '@medplum/fhirtypes';
import { computedParameter, type ComputedParameter } from './computed.ts';
import { FhirError } from '../fhir/errors.ts';
import { decodeCursor, type Cursor } from './cursor.ts';
import { isIncludeParam, parseInclude, type IncludeDirective } from './include.ts';
import { peelChain, type Hop } from './chain.ts';
import type { Compartment } from './scope.ts';
import { compositeSpec, type CompositeSpec } from './composite.ts';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
const PREFIXES = new Set<string>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const PREFIXED_TYPES = new Set(['number', 'date', 'quantity']);

export interface SearchValue {
  prefix: Prefix;
  value: string;
}

export interface SearchFilter {
  /** The parameter name as written (code plus modifier) for the self link. */
  name: string;
  code: string;
  type: SearchParameter['type'];
  modifier?: string;
  values: SearchValue[];
  definition?: SearchParameter;
  /** Chain and _has hops leading to the resources the parameter applies to (chain.ts). */
  path?: Hop[];
  /** For a composite parameter, how its components are indexed (composite.ts). */
  composite?: CompositeSpec;
  /** A parameter worked out when the search runs (computed.ts). */
  computed?: ComputedParameter;
}

export interface SortRule {
  code: string;
  descending: boolean;
}

export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  sort: SortRule[];
  count: number;
  /** Where this page continues from (absent: the first page). */
  cursor?: Cursor;
  total: 'none' | 'estimate' | 'accurate' | undefined;
  summary?: 'true' | 'text' | 'data' | 'count' | 'false';
  elements?: string[];
  /** _include and _revinclude, in the order given. */
  includes: IncludeDirective[];
  /** System search: the types searched (empty: every type); resourceType is then only used for parsing. */
  resourceTypes?: string[];
  /** Compartment search: only resources in this compartment (scope.ts). */
  compartment?: Compartment;
  /** `_list`: only resources that List/[id] refers to from List.entry.item. */
  list?: string;
  /**
   * Patient/$changes: only resources about this patient (their derived `_patient` index rows: the patient, the
   * members of its compartment and their Provenance), driven from the index rather than filtered row by row.
   */
  aboutPatient?: string;
  /** Communication/$unread: only messages this reader has not marked read (migration 011) nor sent (Type/id). */
  unread?: { reader: string; senders: string[] };
  /** Parameters that were not understood and so not applied. */
  ignored: string[];
  /** The time computed parameters are worked out at (computed.ts). */
  at?: Date;
}

export interface ParseOptions {
  defaultCount: number;
  maxCount: number;
  strict: boolean;
}

const RESULT_PARAMS = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_cursor', '_format', '_pretty']);

export function parseSearch(resourceType: string, params: [string, string][], options: ParseOptions): SearchRequest {
  const request: SearchRequest = {
    resourceType,
    filters: [],
    sort: [],
    count: options.defaultCount,
    total: undefined,
    includes: [],
    ignored: [],
  };
  let cursor: string | undefined;
  for (const [name, value] of params) {
    if (name === '_cursor') {
      cursor = value;
      continue;
    }
    if (name === '_list') {
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
        throw new FhirError('not-supported', `_list takes the id of a List; "${value}" is not supported`);
      }
      request.list = value;
      continue;
    }
    if (RESULT_PARAMS.has(name)) {
      applyResultParam(request, name, value, options);
      continue;
    }
    if (isIncludeParam(name)) {
      const directive = parseInclude(name, value, resourceType);
      if (directive) request.includes.push(directive);
      else if (options.strict) throw new FhirError('invalid', `Unknown search parameter in ${name}=${value}`);
      else request.ignored.push(name);
      continue;
    }
    const chained = name.includes('.') || name.startsWith('_has:');
    const peeled = chained ? peelChain(resourceType, name) : undefined;
    if (chained && !peeled) {
      if (options.strict) throw new FhirError('invalid', `Unknown or unsupported search parameter "${name}"`);
      request.ignored.push(name);
      continue;
    }
    const [code, modifier] = splitName(peeled?.leaf ?? name);
    const definition = leafDefinition(peeled?.resourceType ?? resourceType, code);
    if (!definition || !isSupported(definition, modifier)) {
      if (options.strict) throw new FhirError('invalid', `Unknown or unsupported search parameter "${name}"`);
      request.ignored.push(name);
      continue;
    }
    request.filters.push({
      name,
      code,
      type: definition.type,
      modifier,
      values: splitOr(value).map((v) => parseValue(definition.type, v, modifier)),
      definition,
      ...(peeled?.hops.length ? { path: peeled.hops } : {}),
      ...(computedParameter(peeled?.resourceType ?? resourceType, code)
        ? { computed: computedParameter(peeled?.resourceType ?? resourceType, code) }
        : {}),
      ...(definition.type === 'composite'
        ? { composite: compositeSpec(peeled?.resourceType ?? resourceType, code) }
        : {}),
    });
  }
  if (cursor !== undefined) request.cursor = decodeCursor(cursor, request.sort);
  return request;
}

const SUPPORTED_MODIFIERS: Record<string, Set<string>> = {
  token: new Set(['missing', 'not', 'text', 'of-type', 'in', 'not-in']),
  string: new Set(['missing', 'exact', 'contains']),
  reference: new Set(['missing', 'identifier']),
  date: new Set(['missing']),
  number: new Set(['missing']),
  quantity: new Set(['missing']),
  uri: new Set(['missing', 'below', 'above']),
  composite: new Set(),
};

/** The search parameters of a type that this parser accepts (for the CapabilityStatement). */
export function supportedSearchParams(
  resourceType: string,
): { code: string; type: SearchParameter['type']; url?: string }[] {
  return Object.entries(getSearchParameters(resourceType) ?? {})
    .filter(
      ([code, sp]) =>
        SUPPORTED_MODIFIERS[sp.type] &&
        (sp.type !== 'composite' || compositeSpec(resourceType, code)) &&
        !code.startsWith('_compartment') &&
        (sp.expression || code === '_id' || code === '_lastUpdated' || !!computedParameter(resourceType, code)),
    )
    .map(([code, sp]) => ({ code, type: sp.type, url: sp.url }))
    .sort((a, b) => a.code.localeCompare(b.code));
}

const supportedByType = new Map<string, Set<string>>();
function supportedCodes(resourceType: string): Set<string> {
  let codes = supportedByType.get(resourceType);
  if (!codes) {
    codes = new Set(supportedSearchParams(resourceType).map((p) => p.code));
    supportedByType.set(resourceType, codes);
  }
  return codes;
}

function leafDefinition(resourceType: string, code: string): SearchParameter | undefined {
  return supportedCodes(resourceType).has(code) ? getSearchParameters(resourceType)?.[code] : undefined;
}

function isSupported(definition: SearchParameter, modifier: string | undefined): boolean {
  const modifiers = SUPPORTED_MODIFIERS[definition.type];
  if (!modifiers) return false;
  if (!modifier) return true;
  if (definition.code === '_id' || definition.code === '_lastUpdated') return false;
  if (definition.type === 'reference' && /^[A-Z][A-Za-z]+$/.test(modifier)) {
    return (definition.target ?? []).includes(modifier as never);
  }
  return modifiers.has(modifier);
}

function splitName(name: string): [string, string | undefined] {
  const i = name.indexOf(':');
  return i < 0 ? [name, undefined] : [name.slice(0, i), name.slice(i + 1)];
}

/** Splits on commas not escaped with a backslash (R4 search "Escaping Search Parameters"). */
export function splitOr(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\([,$|\\])/g, '$1'))
    .filter((v) => v !== '');
}

export function parseValue(type: string, raw: string, modifier: string | undefined): SearchValue {
  if (modifier === 'missing') {
    if (raw !== 'true' && raw !== 'false') throw new FhirError('invalid', `:missing takes true or false, not "${raw}"`);
    return { prefix: 'eq', value: raw };
  }
  if (PREFIXED_TYPES.has(type) && /^[a-z]{2}/.test(raw) && PREFIXES.has(raw.slice(0, 2))) {
    return { prefix: raw.slice(0, 2) as Prefix, value: raw.slice(2) };
  }
  return { prefix: 'eq', value: raw };
}

function applyResultParam(request: SearchRequest, name: string, value: string, options: ParseOptions): void {
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new FhirError('invalid', `_count must be a whole number, not "${value}"`);
      request.count = Math.min(n, options.maxCount);
      break;
    }
    case '_sort':
      request.sort = value
        .split(',')
        .filter(Boolean)
        .map((s) => ({ code: s.replace(/^-/, ''), descending: s.startsWith('-') }));
      break;
    case '_total':
      if (!['none', 'estimate', 'accurate'].includes(value))
        throw new FhirError('invalid', `_total must be none, estimate or accurate`);
      request.total = value as SearchRequest['total'];
      break;
    case '_summary':
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) {
        throw new FhirError('invalid', `_summary must be true, text, data, count or false`);
      }
      request.summary = value as SearchRequest['summary'];
      break;
    case '_elements':
      request.elements = value
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      break;
  }
}
