/**
 * Chained parameters and reverse chaining (R4 search.html §3.1.1.4.12-13):
 * `subject:Patient.identifier=…`, untyped `subject.name=…`, multi-level
 * `subject:Patient.general-practitioner.name=…`, and `_has:Type:param:…`,
 * nested or mixed. A name is peeled into hops (each one step along a reference,
 * forwards or backwards) and the leaf parameter on the last hop's type; each hop
 * compiles to an EXISTS over sp_reference joined to the current, undeleted
 * resource at its other end.
 */
import { getSearchParameters } from '@medplum/core';
import { FhirError } from '../fhir/errors.ts';
import { allResourceTypes } from '../fhir/definitions.ts';
import { referenceParams } from './include.ts';
import type { SqlBuilder } from './sql.ts';

export type Hop =
  /** Follow reference parameter `code` of the current resource to targets of `types`. */
  | { kind: 'chain'; code: string; types: string[] }
  /** Resources of `type` whose reference parameter `code` points at the current resource. */
  | { kind: 'has'; type: string; code: string };

export interface Peeled {
  hops: Hop[];
  /** Type the leaf parameter belongs to. */
  resourceType: string;
  /** The leaf parameter name (code, with its modifier if any). */
  leaf: string;
}

const MAX_HOPS = 4;

/**
 * Peels the chain and _has hops off a parameter name. Returns undefined when a
 * parameter along the way does not exist (an unknown parameter); throws 400 for
 * a chain that cannot mean anything (a non-reference hop, a type the reference
 * cannot point at).
 */
export function peelChain(resourceType: string, name: string): Peeled | undefined {
  const hops: Hop[] = [];
  let type = resourceType;
  let rest = name;
  for (;;) {
    if (hops.length > MAX_HOPS) throw new FhirError('invalid', `"${name}" chains more than ${MAX_HOPS} references`);
    if (rest.startsWith('_has:')) {
      const [, source, code, ...tail] = rest.split(':');
      if (!source || !code || !tail.length) {
        throw new FhirError('invalid', `"${name}": _has takes _has:Type:parameter:search-parameter`);
      }
      if (!allResourceTypes().includes(source)) return undefined;
      const targets = referenceParams(source)[code];
      if (!targets) {
        if (getSearchParameters(source)?.[code]) {
          throw new FhirError('invalid', `"${name}": ${source}.${code} is not a reference parameter`);
        }
        return undefined;
      }
      if (!targets.includes(type)) {
        throw new FhirError('invalid', `"${name}": ${source}.${code} cannot refer to ${type}`);
      }
      hops.push({ kind: 'has', type: source, code });
      type = source;
      rest = tail.join(':');
      continue;
    }
    const dot = rest.indexOf('.');
    if (dot < 0) return { hops, resourceType: type, leaf: rest };
    const [code, typed] = rest.slice(0, dot).split(':');
    rest = rest.slice(dot + 1);
    const targets = referenceParams(type)[code];
    if (!targets) {
      if (getSearchParameters(type)?.[code]) {
        throw new FhirError('invalid', `"${name}": ${code} is not a reference parameter, so it cannot be chained`);
      }
      return undefined;
    }
    const next = nextCode(rest);
    let types: string[];
    if (typed) {
      if (!targets.includes(typed))
        throw new FhirError('invalid', `"${name}": ${type}.${code} cannot refer to ${typed}`);
      types = [typed];
    } else {
      types = targets.filter((t) => allResourceTypes().includes(t) && getSearchParameters(t)?.[next]);
      if (!types.length) return undefined; // no type it can refer to has the next parameter: unknown
    }
    hops.push({ kind: 'chain', code, types });
    type = types[0];
  }
}

/** The first parameter code of what follows a hop (`name:exact` -> name, `_has:…` -> _has). */
function nextCode(rest: string): string {
  return rest.startsWith('_has:') ? '_has' : rest.split(/[.:]/)[0];
}

/**
 * Wraps the leaf condition (built for a resource alias) in one EXISTS per hop,
 * starting from the resource alias `owner`. Aliases are numbered by depth so
 * every level refers to its own rows.
 */
export function compileHops(
  sql: SqlBuilder,
  hops: Hop[],
  owner: string,
  leaf: (alias: string) => string,
  visible: (alias: string) => string | undefined = () => undefined,
  depth = 1,
): string {
  if (!hops.length) return leaf(owner);
  const [hop, ...rest] = hops;
  const c = `c${depth}`;
  const r = `r${depth}`;
  // Each resource a hop reaches must be one the caller may see (access control).
  const restriction = visible(r);
  const next = compileHops(sql, rest, r, leaf, visible, depth + 1);
  const inner = restriction ? `${restriction} AND ${next}` : next;
  if (hop.kind === 'chain') {
    const types = hop.types.length === 1 ? `= ${sql.bind(hop.types[0])}` : `= ANY(${sql.bind(hop.types)}::text[])`;
    return (
      `EXISTS (SELECT 1 FROM sp_reference ${c} JOIN resource ${r}` +
      ` ON ${r}.resource_type = ${c}.target_type AND ${r}.id = ${c}.target_id AND NOT ${r}.deleted` +
      ` WHERE ${c}.resource_type = ${owner}.resource_type AND ${c}.id = ${owner}.id` +
      ` AND ${c}.code = ${sql.bind(hop.code)} AND ${c}.target_type ${types} AND ${inner})`
    );
  }
  return (
    `EXISTS (SELECT 1 FROM sp_reference ${c} JOIN resource ${r}` +
    ` ON ${r}.resource_type = ${c}.resource_type AND ${r}.id = ${c}.id AND NOT ${r}.deleted` +
    ` WHERE ${c}.resource_type = ${sql.bind(hop.type)} AND ${c}.code = ${sql.bind(hop.code)}` +
    ` AND ${c}.target_type = ${owner}.resource_type AND ${c}.target_id = ${owner}.id AND ${inner})`
  );
}
