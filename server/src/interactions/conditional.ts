/**
 * Conditional criteria (If-None-Exist, Type?search on PUT/PATCH/DELETE,
 * conditional references): resolved strictly, since ignoring an unknown
 * parameter would widen the match.
 */
import { FhirError } from '../fhir/errors.ts';
import type { Repository } from '../repository/repository.ts';
import { parseSearch } from '../search/parse.ts';

/** Ids of the current resources matching the criteria, at most `limit` (enough to tell 0, 1, many). */
export async function matchIds(repo: Repository, resourceType: string, criteria: string, limit = 2): Promise<string[]> {
  const params = [...new URLSearchParams(criteria.replace(/^\?/, ''))];
  if (!params.length) throw new FhirError('invalid', `Conditional criteria for ${resourceType} are empty`);
  const request = parseSearch(resourceType, params, { defaultCount: limit, maxCount: limit, strict: true });
  if (!request.filters.length)
    throw new FhirError('invalid', `Conditional criteria "${criteria}" contain no search parameter`);
  request.count = limit;
  request.sort = [];
  const { rows } = await repo.search(request, { withTotal: false });
  return rows.map((r) => r.id);
}

export function criteriaOf(query: [string, string][]): string {
  return new URLSearchParams(query.filter(([k]) => k !== '_format' && k !== '_pretty')).toString();
}
