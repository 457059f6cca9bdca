/**
 * Index on write: for every R4 SearchParameter of a resource's type, evaluate its
 * FHIRPath expression and turn the values into rows of the sp_* index tables.
 */
import {
  convertToSearchableDates,
  convertToSearchableNumbers,
  convertToSearchableQuantities,
  convertToSearchableStrings,
  convertToSearchableUris,
  evalFhirPathTyped,
  getSearchParameterDetails,
  getSearchParameters,
  toTypedValue,
  type TypedValue,
} from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import type { FhirPathAtom } from '@medplum/core';
import { normalizeString } from './normalize.ts';
import { compilePath, type CompiledPath } from './paths.ts';
import { compositeRows } from './composite.ts';
import { localTarget } from '../fhir/reference.ts';
import { relationshipsOf } from '../auth/relationships.ts';
import { pendingDeadline } from '../workflow/deadline.ts';
import { compartmentMembers } from './scope.ts';
import {
  derivedTokenCode,
  identifierTypeTokens,
  referenceIdentifierTokens,
  tokensOf,
  type TokenRow,
} from './tokens.ts';

export interface IndexRows {
  token: { code: string[]; system: (string | null)[]; value: (string | null)[]; text: (string | null)[] };
  string: { code: string[]; value: string[]; norm: string[] };
  reference: { code: string[]; target: string[]; targetType: (string | null)[]; targetId: (string | null)[] };
  date: { code: string[]; lo: string[]; hi: string[] };
  number: { code: string[]; lo: (number | null)[]; hi: (number | null)[] };
  quantity: { code: string[]; value: (number | null)[]; system: (string | null)[]; unit: (string | null)[] };
  uri: { code: string[]; value: string[] };
  /** Legitimate relationships the resource establishes (auth/relationships.ts); code is the basis. */
  relationship: {
    code: string[];
    patientId: (string | null)[];
    party: string[];
    effect: string[];
    starts: (string | null)[];
    ends: (string | null)[];
    /** The one resource a share gives (Type/id); null for other relationships. */
    target: (string | null)[];
  };
  /** A Task's pending deadline (workflow/deadline.ts), at most one; code is 'due'. */
  deadline: { code: string[]; due: string[] };
}

/** Derived reference rows naming each patient whose compartment the resource is in (access filtering). */
export const PATIENT_CODE = '_patient';

interface IndexedParam {
  code: string;
  type: SearchParameter['type'];
  expression: FhirPathAtom;
  /** The expression compiled to a plain walk of the JSON, where it is a union of element paths. */
  compiled?: CompiledPath;
}

/** Parameters answered from the resource table itself, not from index rows. */
const TABLE_PARAMS = new Set(['_id', '_lastUpdated']);
const INDEXED_TYPES = new Set(['token', 'string', 'reference', 'date', 'number', 'quantity', 'uri']);
const paramsByType = new Map<string, IndexedParam[]>();

/** The index-backed search parameters of a resource type (composite and special excluded). */
export function indexedParams(resourceType: string): IndexedParam[] {
  let params = paramsByType.get(resourceType);
  if (!params) {
    params = Object.entries(getSearchParameters(resourceType) ?? {})
      .filter(
        ([code, sp]) =>
          sp.expression && INDEXED_TYPES.has(sp.type) && !TABLE_PARAMS.has(code) && !code.startsWith('_compartment'),
      )
      .map(([code, sp]) => ({
        code,
        type: sp.type,
        expression: getSearchParameterDetails(resourceType, sp).parsedExpression,
        compiled: compilePath(resourceType, sp.expression!),
      }));
    paramsByType.set(resourceType, params);
  }
  return params;
}

export function emptyIndexRows(): IndexRows {
  return {
    token: { code: [], system: [], value: [], text: [] },
    string: { code: [], value: [], norm: [] },
    reference: { code: [], target: [], targetType: [], targetId: [] },
    date: { code: [], lo: [], hi: [] },
    number: { code: [], lo: [], hi: [] },
    quantity: { code: [], value: [], system: [], unit: [] },
    uri: { code: [], value: [] },
    relationship: { code: [], patientId: [], party: [], effect: [], starts: [], ends: [], target: [] },
    deadline: { code: [], due: [] },
  };
}

export function extractIndexRows(resource: Resource): IndexRows {
  const rows = emptyIndexRows();
  const input = [toTypedValue(resource)];
  for (const param of indexedParams(resource.resourceType)) {
    let values: TypedValue[];
    try {
      values = param.compiled
        ? param.compiled(resource as unknown as Record<string, unknown>)
        : evalFhirPathTyped(param.expression, input);
    } catch {
      continue; // an expression the engine cannot evaluate on this shape indexes nothing
    }
    if (values.length) addRows(rows, param.code, param.type, values);
  }
  compositeRows(resource, (code, type, values) => addRows(rows, code, type, values));
  addPatientRows(rows, compartmentPatientsOf(resource.resourceType, resource.id, rows));
  for (const r of relationshipsOf(resource)) {
    rows.relationship.code.push(r.basis);
    rows.relationship.patientId.push(r.patientId ?? null);
    rows.relationship.party.push(r.party);
    rows.relationship.effect.push(r.effect);
    rows.relationship.starts.push(r.starts ?? null);
    rows.relationship.ends.push(r.ends ?? null);
    rows.relationship.target.push(r.target ?? null);
  }
  const due = pendingDeadline(resource);
  if (due) {
    rows.deadline.code.push('due');
    rows.deadline.due.push(due);
  }
  return rows;
}

/** The `_patient` rows naming the patients a resource is about (access filtering in SQL). */
export function addPatientRows(rows: IndexRows, patients: string[]): void {
  for (const patientId of patients) {
    rows.reference.code.push(PATIENT_CODE);
    rows.reference.target.push(`Patient/${patientId}`);
    rows.reference.targetType.push('Patient');
    rows.reference.targetId.push(patientId);
  }
}

/**
 * The patients whose compartment a resource is in (R4 compartmentdefinition-patient):
 * a Patient is in its own; another resource in that of each Patient its member
 * parameters refer to. Access to the resource needs access to all of them.
 */
export function compartmentPatients(resource: Resource): string[] {
  if (resource.resourceType === 'Patient') return resource.id ? [resource.id] : [];
  const params = compartmentMembers('Patient').get(resource.resourceType);
  if (!params) return [];
  const rows = emptyIndexRows();
  const input = [toTypedValue(resource)];
  for (const param of indexedParams(resource.resourceType)) {
    if (!params.includes(param.code)) continue;
    try {
      const values = param.compiled
        ? param.compiled(resource as unknown as Record<string, unknown>)
        : evalFhirPathTyped(param.expression, input);
      addRows(rows, param.code, 'reference', values);
    } catch {
      // as in extractIndexRows: an expression that cannot be evaluated yields nothing
    }
  }
  return compartmentPatientsOf(resource.resourceType, resource.id, rows);
}

function compartmentPatientsOf(resourceType: string, id: string | undefined, rows: IndexRows): string[] {
  if (resourceType === 'Patient') return id ? [id] : [];
  const params = compartmentMembers('Patient').get(resourceType);
  if (!params) return [];
  const out = new Set<string>();
  const { code, targetType, targetId } = rows.reference;
  for (let i = 0; i < code.length; i++) {
    if (targetType[i] === 'Patient' && targetId[i] && params.includes(code[i])) out.add(targetId[i]!);
  }
  return [...out];
}

function addRows(rows: IndexRows, code: string, type: SearchParameter['type'], values: TypedValue[]): void {
  switch (type) {
    case 'token':
      addTokens(rows, code, tokensOf(values));
      addTokens(rows, derivedTokenCode(code, 'of-type'), identifierTypeTokens(values));
      break;
    case 'string':
      for (const s of new Set(searchableStrings(values))) {
        rows.string.code.push(code);
        rows.string.value.push(s);
        rows.string.norm.push(normalizeString(s));
      }
      break;
    case 'reference':
      for (const ref of new Set(referencesOf(values))) {
        const target = localTarget(ref);
        rows.reference.code.push(code);
        rows.reference.target.push(ref);
        rows.reference.targetType.push(target?.resourceType ?? null);
        rows.reference.targetId.push(target?.id ?? null);
      }
      addTokens(rows, derivedTokenCode(code, 'identifier'), referenceIdentifierTokens(values));
      break;
    case 'date':
      for (const p of convertToSearchableDates(values)) {
        rows.date.code.push(code);
        rows.date.lo.push(p.start ?? '-infinity');
        rows.date.hi.push(p.end ?? 'infinity');
      }
      break;
    case 'number':
      for (const [lo, hi] of convertToSearchableNumbers(values)) {
        rows.number.code.push(code);
        rows.number.lo.push(lo ?? null);
        rows.number.hi.push(hi ?? null);
      }
      break;
    case 'quantity':
      for (const q of convertToSearchableQuantities(values)) {
        rows.quantity.code.push(code);
        rows.quantity.value.push(q.value ?? null);
        rows.quantity.system.push(q.system ?? null);
        rows.quantity.unit.push(q.code ?? q.unit ?? null);
      }
      break;
    case 'uri':
      for (const u of new Set(convertToSearchableUris(values))) {
        rows.uri.code.push(code);
        rows.uri.value.push(u);
      }
      break;
  }
}

/**
 * Strings a string parameter matches: each part of a HumanName (family, given,
 * prefix, suffix, text) and of an Address (line, city, district, state,
 * postalCode, country, text) on its own, so `name=shah` finds "Priya Shah"
 * (R4 search "string"); other values as @medplum/core renders them.
 */
function searchableStrings(values: TypedValue[]): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) out.push(v);
    else if (Array.isArray(v)) v.forEach(add);
  };
  const other: TypedValue[] = [];
  for (const tv of values) {
    const v = tv.value as Record<string, unknown> | undefined;
    if (tv.type === 'HumanName' && v) ['family', 'given', 'prefix', 'suffix', 'text'].forEach((k) => add(v[k]));
    else if (tv.type === 'Address' && v) {
      ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'].forEach((k) => add(v[k]));
    } else other.push(tv);
  }
  return other.length ? [...out, ...convertToSearchableStrings(other)] : out;
}

function addTokens(rows: IndexRows, code: string, tokens: TokenRow[]): void {
  for (const t of tokens) {
    rows.token.code.push(code);
    rows.token.system.push(t.system);
    rows.token.value.push(t.value);
    rows.token.text.push(t.text);
  }
}

/** Reference strings of Reference values and of canonical/uri values used as references. */
function referencesOf(values: TypedValue[]): string[] {
  const out: string[] = [];
  for (const { value } of values) {
    if (typeof value === 'string') out.push(value);
    else if (value && typeof value.reference === 'string') out.push(value.reference);
  }
  return out;
}
