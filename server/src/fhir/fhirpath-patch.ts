/**
 * FHIRPath Patch (R4 fhirpatch.html): a Parameters resource of `operation`s
 * (add, insert, delete, replace, move), each located by a FHIRPath expression.
 * Complex elements are found by identity in the resource tree; primitives by
 * their parent expression and element name.
 */
import { evalFhirPath, evalFhirPathTyped, toTypedValue, tryGetDataType } from '@medplum/core';
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { FhirError } from './errors.ts';

type Node = Record<string, unknown>;
interface Location {
  parent: Node;
  key: string;
  index?: number;
}

export function isFhirPathPatch(body: unknown): body is Parameters {
  return (body as Parameters | undefined)?.resourceType === 'Parameters';
}

/** Applies the patch to (a copy of) the resource and returns the result. */
export function applyFhirPathPatch(resource: Resource, patch: Parameters): Resource {
  const target = structuredClone(resource) as unknown as Node;
  const operations = (patch.parameter ?? []).filter((p) => p.name === 'operation');
  if (!operations.length) throw new FhirError('invalid', 'A FHIRPath Patch needs at least one "operation" parameter');
  operations.forEach((op, i) => applyOperation(target, op, `Parameters.parameter[${i}]`));
  return target as unknown as Resource;
}

function applyOperation(root: Node, op: ParametersParameter, at: string): void {
  const parts = new Map((op.part ?? []).map((p) => [p.name, p]));
  const text = (name: string) => parts.get(name)?.valueString ?? parts.get(name)?.valueCode;
  const type = text('type');
  const path = text('path');
  if (!type || !path) throw new FhirError('invalid', `${at}: an operation needs a type and a path`);
  const fail = (message: string) => new FhirError('processing', `${at} (${type} ${path}): ${message}`);
  switch (type) {
    case 'add': {
      const name = text('name');
      if (!name) throw new FhirError('invalid', `${at}: add needs a name`);
      const container = single(containersAt(root, path), fail);
      const value = valueOf(parts.get('value'), at);
      const existing = container.node[name];
      if (Array.isArray(existing)) existing.push(value);
      else if (existing !== undefined) throw fail(`${name} already has a value; use replace`);
      else container.node[name] = elementIsArray(container.type, name) ? [value] : value;
      break;
    }
    case 'insert':
    case 'move': {
      const { list, location } = listAt(root, path, fail);
      if (type === 'insert') {
        const index = integer(parts.get('index'), list.length, fail);
        list.splice(index, 0, valueOf(parts.get('value'), at));
      } else {
        const source = integer(parts.get('source'), list.length - 1, fail);
        const destination = integer(parts.get('destination'), list.length - 1, fail);
        list.splice(destination, 0, ...list.splice(source, 1));
      }
      location.parent[location.key] = list;
      break;
    }
    case 'replace': {
      const location = single(locate(root, path), fail);
      setAt(location, valueOf(parts.get('value'), at));
      break;
    }
    case 'delete': {
      const locations = locate(root, path);
      if (locations.length > 1) throw fail('the path matches more than one element');
      if (locations.length === 1) deleteAt(locations[0]);
      break;
    }
    default:
      throw new FhirError('invalid', `${at}: unknown operation type "${type}"`);
  }
}

/** Where the elements the path selects live. */
function locate(root: Node, path: string): Location[] {
  const values = evalFhirPath(path, root);
  if (values.length && values.every((v) => typeof v === 'object' && v !== null)) {
    return values.map((v) => findByIdentity(root, v as Node)).filter((l): l is Location => l !== undefined);
  }
  const split = splitLast(path);
  if (!split) return [];
  const out: Location[] = [];
  for (const parent of evalFhirPath(split.parent, root)) {
    if (typeof parent !== 'object' || parent === null) continue;
    const value = (parent as Node)[split.name];
    if (value === undefined) continue;
    if (split.index !== undefined) out.push({ parent: parent as Node, key: split.name, index: split.index });
    else if (Array.isArray(value))
      value.forEach((_, index) => out.push({ parent: parent as Node, key: split.name, index }));
    else out.push({ parent: parent as Node, key: split.name });
  }
  return out;
}

function containersAt(root: Node, path: string): { node: Node; type: string }[] {
  return evalFhirPathTyped(path, [toTypedValue(root)])
    .filter((t) => typeof t.value === 'object' && t.value !== null && !Array.isArray(t.value))
    .map((t) => ({ node: t.value as Node, type: t.type }));
}

function listAt(root: Node, path: string, fail: (m: string) => FhirError): { list: unknown[]; location: Location } {
  const split = splitLast(path);
  if (!split || split.index !== undefined) throw fail('the path must name a repeating element');
  const parent = single(
    evalFhirPath(split.parent, root).filter((p): p is Node => typeof p === 'object' && p !== null),
    fail,
  );
  const list = parent[split.name] ?? [];
  if (!Array.isArray(list)) throw fail(`${split.name} does not repeat`);
  return { list, location: { parent, key: split.name } };
}

function findByIdentity(node: unknown, wanted: Node): Location | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  for (const [key, value] of Object.entries(node as Node)) {
    if (value === wanted) return { parent: node as Node, key };
    if (Array.isArray(value)) {
      const index = value.indexOf(wanted);
      if (index >= 0) return { parent: node as Node, key, index };
    }
    const found = findByIdentity(value, wanted);
    if (found) return found;
  }
  return undefined;
}

/** "Patient.name[0].given[1]" -> parent "Patient.name[0]", name "given", index 1. */
function splitLast(path: string): { parent: string; name: string; index?: number } | undefined {
  const m = /^(.*)\.([A-Za-z][A-Za-z0-9_]*)(?:\[(\d+)\])?$/.exec(path.trim());
  if (!m) return undefined;
  return { parent: m[1], name: m[2], index: m[3] === undefined ? undefined : Number(m[3]) };
}

function setAt(location: Location, value: unknown): void {
  const current = location.parent[location.key];
  if (location.index !== undefined && Array.isArray(current)) current[location.index] = value;
  else location.parent[location.key] = value;
}

function deleteAt(location: Location): void {
  const current = location.parent[location.key];
  if (location.index !== undefined && Array.isArray(current)) {
    current.splice(location.index, 1);
    if (current.length === 0) delete location.parent[location.key];
  } else {
    delete location.parent[location.key];
  }
}

function single<T>(items: T[], fail: (m: string) => FhirError): T {
  if (items.length === 0) throw fail('the path matches nothing');
  if (items.length > 1) throw fail('the path matches more than one element');
  return items[0];
}

function integer(part: ParametersParameter | undefined, max: number, fail: (m: string) => FhirError): number {
  const n = part?.valueInteger;
  if (n === undefined || n < 0 || n > max) throw fail(`index must be a whole number from 0 to ${max}`);
  return n;
}

/** The value of a `value` part: its value[x], or an element built from its own parts. */
function valueOf(part: ParametersParameter | undefined, at: string): unknown {
  if (!part) throw new FhirError('invalid', `${at}: the operation needs a value`);
  const key = Object.keys(part).find((k) => k.startsWith('value'));
  if (key) return (part as unknown as Record<string, unknown>)[key];
  if (part.part?.length) {
    const element: Node = {};
    for (const child of part.part) {
      const value = valueOf(child, at);
      const existing = element[child.name];
      element[child.name] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    return element;
  }
  throw new FhirError('invalid', `${at}: the value part has neither a value[x] nor parts`);
}

function elementIsArray(type: string, name: string): boolean {
  return tryGetDataType(type)?.elements[name]?.isArray ?? false;
}
