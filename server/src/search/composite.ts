/**
 * Composite search parameters (R4 search.html "Composite Search Parameters"),
 * e.g. `Observation?code-value-quantity=http://loinc.org|8480-6$gt140`: both
 * components must match on the same element (the same Observation, or the
 * same Observation.component). Supported: two components, a token or a
 * reference first (token$token, token$quantity, token$date, token$string,
 * token$number, reference$token) - every R4 composite but MolecularSequence's
 * three-part coordinates.
 *
 * Index: for each element the composite's expression reaches, the second
 * component's values go into its own type's table under a code that carries
 * the first component's value: `<param>$<system>|<code>` and, for searches
 * that name no system, `<param>$*|<code>`; for a reference, `<param>$Type/id`
 * and `<param>$id` (or the absolute URL). A search then is a plain search of
 * the second component's type under that code.
 */
import {
  evalFhirPathTyped,
  getSearchParameters,
  parseFhirPath,
  toTypedValue,
  type FhirPathAtom,
  type TypedValue,
} from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { hasScheme, localTarget, parseReferenceTarget, underBase } from '../fhir/reference.ts';
import { tokensOf } from './tokens.ts';

export interface CompositeSpec {
  code: string;
  /** Where the components are read: the resource itself and/or paths in it (`Observation | Observation.component`). */
  base: (FhirPathAtom | 'self')[];
  firstType: 'token' | 'reference';
  first: FhirPathAtom;
  second: FhirPathAtom;
  /** Search parameter type of the second component. */
  secondType: SearchParameter['type'];
  /** Value types the second component takes (from its `.as(Type)`), lower case; empty: any. */
  secondAs: string[];
}

const SECOND_TYPES = new Set(['token', 'quantity', 'date', 'string', 'number']);

/**
 * R4 gives DocumentReference `relationship` the expressions of its components
 * swapped (relatesto: `code`, relation: `target`); read as the definitions say.
 */
const R4_ERRATA: Record<string, [string, string]> = {
  'http://hl7.org/fhir/SearchParameter/DocumentReference-relationship': ['target', 'code'],
};
const specsByType = new Map<string, CompositeSpec[]>();

/** The supported composite parameters of a type. */
export function compositeSpecs(resourceType: string): CompositeSpec[] {
  let specs = specsByType.get(resourceType);
  if (specs) return specs;
  specs = [];
  const params = getSearchParameters(resourceType) ?? {};
  const byUrl = new Map(Object.values(params).map((p) => [p.url, p]));
  for (const [code, sp] of Object.entries(params)) {
    if (sp.type !== 'composite' || !sp.expression || sp.component?.length !== 2) continue;
    const [a, b] = sp.component.map((c) => byUrl.get(c.definition));
    if ((a?.type !== 'token' && a?.type !== 'reference') || !b || !SECOND_TYPES.has(b.type)) continue;
    const [first, second] = R4_ERRATA[sp.url] ?? sp.component.map((c) => c.expression ?? '');
    try {
      specs.push({
        code,
        base: baseParts(resourceType, sp.expression),
        firstType: a.type,
        first: parseFhirPath(first),
        second: parseFhirPath(second),
        secondType: b.type,
        secondAs: [...second.matchAll(/as\((\w+)\)/g)].map((m) => m[1].toLowerCase()),
      });
    } catch {
      // an expression the engine cannot parse: the parameter is left unsupported
    }
  }
  specsByType.set(resourceType, specs);
  return specs;
}

/** The parts of a composite's expression for one type; a bare type name is the resource itself. */
function baseParts(resourceType: string, expression: string): CompositeSpec['base'] {
  return expression
    .split('|')
    .map((p) => p.trim())
    .filter((p) => p === resourceType || p.startsWith(`${resourceType}.`) || p.startsWith(`(${resourceType}.`))
    .map((p) => (p === resourceType ? 'self' : parseFhirPath(p)));
}

export function compositeSpec(resourceType: string, code: string): CompositeSpec | undefined {
  return compositeSpecs(resourceType).find((s) => s.code === code);
}

/** The index code of a composite row for a first-component coding (system null: "any system"). */
export function compositeCode(code: string, system: string | null | '*', value: string): string {
  return `${code}$${system ?? ''}|${value}`;
}

/** Calls `add` with the second component's values of each element, per index code. */
export function compositeRows(
  resource: Resource,
  add: (code: string, type: SearchParameter['type'], values: TypedValue[]) => void,
): void {
  const specs = compositeSpecs(resource.resourceType);
  if (!specs.length) return;
  const root = [toTypedValue(resource)];
  for (const spec of specs) {
    let elements: TypedValue[];
    try {
      elements = spec.base.flatMap((part) => (part === 'self' ? root : evalFhirPathTyped(part, root)));
    } catch {
      continue;
    }
    for (const element of elements) {
      const seconds = evalFhirPathTyped(spec.second, [element]).filter(
        (v) => !spec.secondAs.length || spec.secondAs.includes(v.type.toLowerCase()),
      );
      if (!seconds.length) continue;
      const firsts = evalFhirPathTyped(spec.first, [element]);
      const keys = spec.firstType === 'reference' ? referenceKeys(spec.code, firsts) : tokenKeys(spec.code, firsts);
      for (const key of keys) add(key, spec.secondType, seconds);
    }
  }
}

function tokenKeys(code: string, values: TypedValue[]): Set<string> {
  const keys = new Set<string>();
  for (const t of tokensOf(values)) {
    if (t.value === null) continue;
    keys.add(compositeCode(code, t.system, t.value));
    keys.add(compositeCode(code, '*', t.value));
  }
  return keys;
}

/** A local reference is keyed as Type/id and as id (a search may name either); an absolute URL as written. */
function referenceKeys(code: string, values: TypedValue[]): Set<string> {
  const keys = new Set<string>();
  for (const { value } of values) {
    const ref = value?.reference;
    if (typeof ref !== 'string') continue;
    const target = localTarget(ref);
    if (!target) keys.add(`${code}$${ref}`);
    else {
      keys.add(`${code}$${target.resourceType}/${target.id}`);
      keys.add(`${code}$${target.id}`);
    }
  }
  return keys;
}

/** Splits a composite search value `first$second` into the index code and the second component's value. */
export function splitCompositeValue(
  spec: CompositeSpec,
  raw: string,
  baseUrl: string,
): { code: string; second: string } {
  const parts = raw.split('$');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new FhirError(
      'invalid',
      `${spec.code} takes two values joined by $, such as system|code$value; got "${raw}"`,
    );
  }
  const [first, second] = parts;
  if (spec.firstType === 'reference') return { code: referenceCode(spec.code, first, baseUrl), second };
  const bar = first.indexOf('|');
  if (bar >= 0 && first.slice(bar + 1) === '') {
    throw new FhirError('invalid', `${spec.code}: the first component needs a code ("system|" alone is not supported)`);
  }
  const code =
    bar < 0
      ? compositeCode(spec.code, '*', first)
      : compositeCode(spec.code, first.slice(0, bar), first.slice(bar + 1));
  return { code, second };
}

/** The index code of a reference-first composite: Type/id or id for a local reference (under baseUrl too), else the URL. */
function referenceCode(code: string, reference: string, baseUrl: string): string {
  const local = underBase(reference, baseUrl);
  if (hasScheme(local)) return `${code}$${local}`;
  const target = parseReferenceTarget(local);
  return `${code}$${target ? `${target.resourceType}/${target.id}` : local}`;
}
