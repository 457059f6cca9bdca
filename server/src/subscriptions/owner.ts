/**
 * Who a subscription works for: the identity and scopes of whoever last set
 * it up (kept with its delivery state; auth/ownership.ts keeps it theirs).
 * What it delivers is what they may see at notification time, decided by the
 * same Guard and policy as a REST read.
 */
import { matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { restrictions, type Access } from '../auth/access.ts';
import type { AccessCache } from '../auth/access-cache.ts';
import { Guard, type Identity } from '../auth/guard.ts';
import type { ResourceScope } from '../auth/scopes.ts';
import type { Queryable } from '../store/resources.ts';

export interface Owner {
  identity: Identity;
  scopes: ResourceScope[];
}

export function accessOf(owner: Owner): Access {
  return { clientId: owner.identity.clientId, scopes: owner.scopes, identity: owner.identity, subject: '' };
}

/** Whether the owner may read `resource` now (scopes, then legitimate relationship). */
export async function ownerMayRead(
  db: Queryable,
  owner: Owner,
  resource: Resource,
  graceMs: number,
  cache: AccessCache,
): Promise<boolean> {
  const queries = restrictions(accessOf(owner), resource.resourceType, 'r');
  if (queries === null) return false;
  if (
    queries &&
    !queries.some((q) => matchesSearchRequest(resource, parseSearchRequest(`${resource.resourceType}?${q}`)))
  ) {
    return false;
  }
  return new Guard(owner.identity, graceMs, cache).allowsResource(db, resource);
}
