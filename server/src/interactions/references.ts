/** Reference rewriting inside a transaction: placeholders (urn:uuid, fullUrl) and conditional references. */
import type { Reference, Resource } from '@medplum/fhirtypes';

/** Replaces, anywhere in the resource, every string equal to a mapped fullUrl with its Type/id. */
export function rewriteReferences(resource: Resource, map: Map<string, string>): void {
  if (map.size === 0) return;
  walk(resource, (holder, key, value) => {
    const target = map.get(value);
    if (target !== undefined) holder[key] = target;
  });
}

/** The Reference elements whose reference is a search (Type?criteria), to be resolved. */
export function conditionalReferences(resource: Resource): Reference[] {
  const refs: Reference[] = [];
  walk(resource, (holder, key, value) => {
    if (key === 'reference' && /^[A-Z][A-Za-z]+\?/.test(value)) refs.push(holder as Reference);
  });
  return refs;
}

type Visitor = (holder: Record<string, unknown>, key: string, value: string) => void;

function walk(node: unknown, visit: Visitor): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => (typeof item === 'string' ? visit(node as never, String(i), item) : walk(item, visit)));
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (typeof value === 'string') visit(node as Record<string, unknown>, key, value);
      else walk(value, visit);
    }
  }
}
