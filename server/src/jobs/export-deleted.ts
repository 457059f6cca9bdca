/**
 * The `deleted` file of a `_since` export (Bulk Data IG export.html, manifest
 * `deleted`): the resources "that would have been returned, but have been
 * deleted subsequent to" `_since`, one transaction Bundle per line with one
 * entry, `request.method` DELETE and `request.url` Type/id. Which would have
 * been returned is judged on the last version before the deletion (a
 * deletion has no search index): the caller's access (restricted scope
 * queries, relationships, consent, sealing, restricted role, owned types, as
 * for a read), the export's patients, and its `_typeFilter` queries.
 */
import { matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { restrictions, type Access } from '../auth/access.ts';
import type { Guard } from '../auth/guard.ts';
import { OWNED_TYPES, ownedBy, ownerKey } from '../auth/ownership.ts';
import { sealLevel, type SealLevel } from '../auth/sealing.ts';
import { compartmentPatients } from '../search/extract.ts';
import { provenancePatients } from '../store/access.ts';
import type { DeletedRow } from '../store/export-deleted.ts';
import type { Queryable } from '../store/resources.ts';
import type { ExportParams } from './export-request.ts';

export interface DeletedJudge {
  db: Queryable;
  params: ExportParams;
  access: Access | undefined;
  guard: Guard | undefined;
}

/** The NDJSON line of a deletion: a transaction Bundle with one DELETE entry. */
export function deletionBundle(resourceType: string, id: string, deleted: string): string {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    meta: { lastUpdated: deleted },
    type: 'transaction',
    entry: [{ request: { method: 'DELETE', url: `${resourceType}/${id}` } }],
  };
  return JSON.stringify(bundle);
}

/**
 * The lines of the deletions the caller would have been given, and how many could not be judged (their last
 * version does not parse, or a query cannot be matched on it): those are left out.
 */
export async function deletedLines(
  type: string,
  rows: DeletedRow[],
  judge: DeletedJudge,
): Promise<{ ndjson: string; count: number; unjudged: number }> {
  let ndjson = '';
  let count = 0;
  let unjudged = 0;
  for (const row of rows) {
    if (row.previous === null) continue; // never had content: nothing the caller could have seen
    let listed: boolean;
    try {
      listed = await wouldHaveBeenReturned(type, JSON.parse(row.previous) as Resource, row.sealed, judge);
    } catch {
      unjudged++;
      continue;
    }
    if (!listed) continue;
    ndjson += `${deletionBundle(type, row.id, row.lastUpdated)}\n`;
    count++;
  }
  return { ndjson, count, unjudged };
}

async function wouldHaveBeenReturned(
  type: string,
  resource: Resource,
  sealedNow: number,
  { db, params, access, guard }: DeletedJudge,
): Promise<boolean> {
  const scopeQueries = restrictions(access, type, 's');
  if (scopeQueries === null) return false;
  if (scopeQueries && !scopeQueries.some((q) => matches(resource, q))) return false;
  const filters = params.typeFilters[type];
  if (filters && !filters.some((q) => matches(resource, q))) return false;
  const patients = compartmentPatients(resource);
  // A Provenance is about its targets' patients (as indexed when it was written).
  if (type === 'Provenance') patients.push(...(await provenancePatients(db, resource as never)));
  if (params.level === 'patient' && !patients.length) return false;
  if (params.level !== 'system' && params.patients && !patients.some((p) => params.patients!.includes(p))) {
    return false;
  }
  if (!guard) return true;
  if (OWNED_TYPES.has(type)) return ownedBy(resource, ownerKey(guard.identity));
  const sealed = Math.max(sealLevel(resource), sealedNow) as SealLevel;
  return guard.allowsResource(db, resource, [...new Set(patients)], sealed);
}

/** Whether a resource matches a search query (@medplum/core's matcher, as subscriptions match). */
function matches(resource: Resource, query: string): boolean {
  return matchesSearchRequest(resource, parseSearchRequest(`${resource.resourceType}?${query}`));
}
