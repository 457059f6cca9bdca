/**
 * The changes between two versions of a resource, as FHIRPath Patch operations
 * (R4 fhirpatch.html; the layout HAPI FHIR's `$diff` uses): applied in order
 * to the older version they give the newer one. Pure.
 *
 * - An element that gained a value: `add` (path = its parent, name = the element).
 * - An element that lost its value: `delete` (previousValue = what it was).
 * - A primitive that changed: `replace` (previousValue and value); complex
 *   elements are compared element by element, so a change is named at its leaf.
 * - Lists of references (CarePlan.goal, careTeam, addresses…) are matched by
 *   the reference, and CarePlan.activity by activity.reference: an item is
 *   named `CarePlan.goal.where(reference='Goal/1')` and a new one is inserted
 *   at its position; a reorder alone is not reported. Other lists (and these
 *   when an item has no reference or two share one) are matched by index:
 *   changed items at `[i]`, new ones added at the end, dropped ones deleted
 *   from the last.
 * - meta.versionId and meta.lastUpdated (they change with every version) are left out.
 */
import type { Resource } from '@medplum/fhirtypes';
import { elementType } from './fhir-types.ts';

export interface DiffOperation {
  type: 'add' | 'insert' | 'delete' | 'replace';
  /** FHIRPath of the element (add: of its parent; insert: of the list). */
  path: string;
  /** add: the element's name. */
  name?: string;
  /** insert: the position in the list. */
  index?: number;
  /** add, insert, replace: the new value, and its FHIR type. */
  value?: unknown;
  previousValue?: unknown;
  /** The FHIR type of value / previousValue (e.g. code, Reference, CarePlanActivity). */
  valueType?: string;
}

type Json = Record<string, unknown>;

export function diffResources(from: Resource, to: Resource): DiffOperation[] {
  const ops: DiffOperation[] = [];
  diffObject(withoutVersionMeta(from), withoutVersionMeta(to), from.resourceType, from.resourceType, ops);
  return ops;
}

function withoutVersionMeta(resource: Resource): Json {
  const { meta, ...rest } = resource as unknown as Json & { meta?: Json };
  if (!meta) return rest;
  const { versionId: _v, lastUpdated: _l, ...kept } = meta;
  return Object.keys(kept).length ? { ...rest, meta: kept } : rest;
}

function diffObject(from: Json, to: Json, path: string, type: string, ops: DiffOperation[]): void {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
  for (const key of keys) {
    if (key === 'resourceType') continue;
    const [a, b] = [from[key], to[key]];
    const childType = elementType(type, key);
    if (Array.isArray(a) || Array.isArray(b)) {
      diffList(asList(a), asList(b), path, key, childType, ops);
    } else if (b === undefined) {
      ops.push({ type: 'delete', path: `${path}.${key}`, previousValue: a, valueType: childType });
    } else if (a === undefined) {
      ops.push({ type: 'add', path, name: key, value: b, valueType: childType });
    } else {
      diffValue(a, b, `${path}.${key}`, childType, ops);
    }
  }
}

function diffValue(a: unknown, b: unknown, path: string, type: string | undefined, ops: DiffOperation[]): void {
  if (isObject(a) && isObject(b)) return diffObject(a, b, path, type ?? '', ops);
  if (!sameJson(a, b)) ops.push({ type: 'replace', path, previousValue: a, value: b, valueType: type });
}

function diffList(
  from: unknown[],
  to: unknown[],
  parent: string,
  name: string,
  type: string | undefined,
  ops: DiffOperation[],
): void {
  const list = `${parent}.${name}`;
  const key = listKey(type);
  const keyed = key && distinctKeys(from, key) && distinctKeys(to, key);
  if (!keyed) {
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) diffValue(from[i], to[i], `${list}[${i}]`, type, ops);
    for (let i = from.length - 1; i >= to.length; i--) {
      ops.push({ type: 'delete', path: `${list}[${i}]`, previousValue: from[i], valueType: type });
    }
    for (let i = from.length; i < to.length; i++)
      ops.push({ type: 'add', path: parent, name, value: to[i], valueType: type });
    return;
  }
  const before = new Map(from.map((item) => [key.of(item)!, item]));
  const after = new Set(to.map((item) => key.of(item)!));
  const at = (k: string) => `${list}.where(${key.path}='${k.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}')`;
  for (const [k, item] of before) {
    if (!after.has(k)) ops.push({ type: 'delete', path: at(k), previousValue: item, valueType: type });
  }
  to.forEach((item, index) => {
    const old = before.get(key.of(item)!);
    if (old === undefined) ops.push({ type: 'insert', path: list, index, value: item, valueType: type });
    else diffValue(old, item, at(key.of(item)!), type, ops);
  });
}

interface ListKey {
  /** FHIRPath of the key within an item. */
  path: string;
  of(item: unknown): string | undefined;
}

/** How items of a list of this type are matched: references by their reference, a care plan activity by its own. */
function listKey(type: string | undefined): ListKey | undefined {
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  if (type === 'Reference') return { path: 'reference', of: (item) => text((item as Json)?.reference) };
  if (type === 'CarePlanActivity') {
    return { path: 'reference.reference', of: (item) => text(((item as Json)?.reference as Json)?.reference) };
  }
  return undefined;
}

function distinctKeys(items: unknown[], key: ListKey): boolean {
  const keys = items.map((i) => key.of(i));
  return keys.every((k) => k !== undefined) && new Set(keys).size === keys.length;
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
