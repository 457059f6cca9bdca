/**
 * Compiled search-parameter paths. About 97% of the R4 search parameter
 * expressions are unions of plain element paths such as `Observation.code |
 * Observation.component.code`, `(Observation.value as Quantity)` or
 * `Observation.subject.where(resolve() is Patient)`. General FHIRPath
 * evaluation re-reads the type schema at every step of every write; these
 * shapes are resolved against the schema once, here, and then walk the JSON
 * directly, giving the same typed values (a unit test compares the two on every
 * fixture). Any other expression returns undefined and stays with FHIRPath.
 */
import { getDataType, tryGetDataType, type InternalTypeSchema, type TypedValue } from '@medplum/core';

/** Evaluates a compiled expression on a resource. */
export type CompiledPath = (resource: Record<string, unknown>) => TypedValue[];

interface Step {
  /** JSON keys to read, each with the FHIR type its values have. */
  keys: { key: string; type: string }[];
  /** `.where(name = 'literal')`: keep values whose primitive `name` equals the literal. */
  where?: { name: string; literal: string };
  /** The schema of the values' type, for the next step (undefined at the last). */
  next?: InternalTypeSchema;
}

interface Part {
  steps: Step[];
  /** `.where(resolve() is X)`: keep references to resources of type X. */
  resolvesTo?: string;
}

/** One step: `.name`, optionally filtered by `.where(name='literal')`. */
const STEP = /\.([a-z][A-Za-z]*)(?:\.where\(([a-z][A-Za-z]*)='([^'\\]*)'\))?/g;
/** A union part: `Type` + steps, optionally in parentheses with ` as Type`, then `.where(resolve() is Type)`. */
const PART =
  /^\(?([A-Z][A-Za-z]*)((?:\.[a-z][A-Za-z]*(?:\.where\([a-z][A-Za-z]*='[^'\\]*'\))?)+)(?: as ([A-Za-z]+)\))?(?:\.where\(resolve\(\) is ([A-Z][A-Za-z]*)\))?$/;

/** Compiles `expression` for `resourceType`, or undefined when it is not a union of plain paths. */
export function compilePath(resourceType: string, expression: string): CompiledPath | undefined {
  const parts: Part[] = [];
  for (const raw of expression.split('|')) {
    const text = raw.trim();
    const match = PART.exec(text);
    if (!match) return undefined;
    const [, root, path, asType, resolvesTo] = match;
    if (root !== resourceType && root !== 'Resource' && root !== 'DomainResource') continue; // another type's part
    if (asType && !text.startsWith('(')) return undefined;
    const names = [...path.matchAll(STEP)].map(([, name, whereName, literal]) => ({
      name,
      where: whereName === undefined ? undefined : { name: whereName, literal },
    }));
    const steps = compileSteps(resourceType, names, asType);
    if (!steps) return undefined;
    parts.push({ steps, resolvesTo });
  }
  return (resource) => {
    const out: TypedValue[] = [];
    for (const part of parts) collect(resource, part, 0, out);
    return out;
  };
}

function compileSteps(
  resourceType: string,
  names: { name: string; where?: Step['where'] }[],
  asType: string | undefined,
): Step[] | undefined {
  let schema: InternalTypeSchema | undefined = getDataType(resourceType);
  const steps: Step[] = [];
  for (let i = 0; i < names.length; i++) {
    const last = i === names.length - 1;
    const { name, where } = names[i];
    if (!schema) return undefined;
    const element = schema.elements[name] ?? schema.elements[`${name}[x]`];
    if (!element?.type?.length) return undefined;
    let keys: Step['keys'];
    if (schema.elements[`${name}[x]`] && !schema.elements[name]) {
      const types = element.type.map((t) => t.code).filter((code) => !last || !asType || code === asType);
      keys = types.map((code) => ({ key: name + code[0].toUpperCase() + code.slice(1), type: code }));
    } else {
      if (element.type.length !== 1) return undefined;
      const type = element.type[0].code;
      if (asType && last && type !== asType) return undefined;
      keys = [{ key: name, type }];
    }
    if (!last) {
      if (keys.length !== 1 || keys[0].type === 'Resource') return undefined;
      schema = tryGetDataType(keys[0].type);
    }
    if (where && (keys.length !== 1 || !tryGetDataType(keys[0].type)?.elements[where.name])) return undefined;
    steps.push({ keys, where, next: last ? undefined : schema });
  }
  return steps;
}

function collect(node: Record<string, unknown>, part: Part, depth: number, out: TypedValue[]): void {
  const step = part.steps[depth];
  const last = depth === part.steps.length - 1;
  for (const { key, type } of step.keys) {
    const value = node[key];
    if (value === undefined || value === null) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === undefined || v === null) continue;
      if (step.where && (v as Record<string, unknown>)[step.where.name] !== step.where.literal) continue;
      if (!last) {
        if (typeof v === 'object') collect(v as Record<string, unknown>, part, depth + 1, out);
      } else if (!part.resolvesTo || referenceType(v) === part.resolvesTo) {
        out.push({ type, value: v });
      }
    }
  }
}

/** The resource type a Reference points at, as FHIRPath resolve() sees it without a server. */
function referenceType(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const ref = value as { reference?: string; type?: string; identifier?: unknown };
  const text = ref.reference ?? (ref.type && ref.identifier ? `${ref.type}?` : undefined);
  if (text === undefined) return undefined;
  if (text.includes('?')) return text.split('?')[0];
  if (text.includes('/')) return text.split('/')[0];
  return undefined;
}
