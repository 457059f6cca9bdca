/**
 * System search (`GET [base]?_type=…`, `POST [base]/_search`) and compartment
 * search (`GET [base]/Patient/123/Task`, `Patient/123/*`), R4 search.html §3.1.1.
 * A system search takes only parameters every searched type has (without
 * `_type`: the ones of every resource, `_id`, `_lastUpdated`, `_tag`,
 * `_profile`, `_security`, `_source`); chains and _include are for type search.
 */
import { getSearchParameters } from '@medplum/core';
import { allResourceTypes, isKnownResourceType } from '../fhir/definitions.ts';
import { FhirError } from '../fhir/errors.ts';
import { requireScope } from '../auth/access.ts';
import { parseSearch, type SearchRequest } from '../search/parse.ts';
import { compartmentMembers } from '../search/scope.ts';
import { parseOptions, searchParams, searchset } from './search.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

export async function searchSystem(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const params = searchParams(req);
  const types = [
    ...new Set(
      params
        .filter(([k]) => k === '_type')
        .flatMap(([, v]) => v.split(','))
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = types.filter((t) => !isKnownResourceType(t));
  if (unknown.length) throw new FhirError('invalid', `_type names unknown resource types: ${unknown.join(', ')}`);
  for (const t of types.length ? types : ['*']) requireScope(ctx.access, t, 's');
  const request = parseAcross(types.length ? types : allResourceTypes(), types.length > 0, params, req, ctx);
  request.resourceTypes = types;
  return searchset(ctx, request, '', types.length ? [['_type', types.join(',')]] : []);
}

export async function searchCompartment(
  req: FhirRequest,
  ctx: InteractionContext,
  ownerType: string,
  ownerId: string,
  type: string,
): Promise<FhirResponse> {
  const members = compartmentMembers(ownerType);
  const path = `${ownerType}/${ownerId}/${type}`;
  const params = searchParams(req);
  let request: SearchRequest;
  if (type === '*') {
    const types = [...new Set([ownerType, ...members.keys()])];
    request = parseAcross(types, false, params, req, ctx);
    request.resourceTypes = types;
  } else {
    if (!isKnownResourceType(type)) throw new FhirError('not-found', `"${type}" is not a FHIR R4 resource type`);
    if (type !== ownerType && !members.has(type)) {
      throw new FhirError('invalid', `${type} is not in the ${ownerType} compartment`);
    }
    request = parseSearch(type, params, parseOptions(req, ctx));
  }
  request.compartment = { ownerType, ownerId, members };
  return searchset(ctx, request, path);
}

/**
 * Parses parameters for a search over several types: with explicit `_type`, a
 * parameter must exist with the same type on each; otherwise only parameters
 * of every resource apply. Others are unknown (ignored, or 400 when strict).
 */
/** The parameters of every resource (R4 Resource and DomainResource search parameters). */
const RESOURCE_PARAMETERS = new Set(['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source']);

function parseAcross(
  types: readonly string[],
  explicit: boolean,
  params: [string, string][],
  req: FhirRequest,
  ctx: InteractionContext,
): SearchRequest {
  const options = parseOptions(req, ctx);
  const request = parseSearch(
    types[0],
    params.filter(([k]) => k !== '_type'),
    { ...options, strict: false },
  );
  if (request.includes.length) throw new FhirError('not-supported', '_include and _revinclude need a type search');
  const common = (code: string, kind: string) =>
    explicit ? types.every((t) => getSearchParameters(t)?.[code]?.type === kind) : RESOURCE_PARAMETERS.has(code);
  const kept = request.filters.filter((f) => !f.path && common(f.code, f.type));
  const dropped = request.filters.filter((f) => !kept.includes(f)).map((f) => f.name);
  if (options.strict && (dropped.length || request.ignored.length)) {
    throw new FhirError(
      'invalid',
      `Not a parameter of every type searched: ${[...dropped, ...request.ignored].join(', ')}`,
    );
  }
  for (const rule of request.sort) {
    if (
      rule.code !== '_id' &&
      rule.code !== '_lastUpdated' &&
      !types.every((t) => getSearchParameters(t)?.[rule.code])
    ) {
      throw new FhirError('invalid', `Cannot sort a search over several types by "${rule.code}"`);
    }
  }
  return { ...request, filters: kept, ignored: [...request.ignored, ...dropped] };
}
