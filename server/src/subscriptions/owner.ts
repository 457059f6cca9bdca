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
import { sealLevel, type SealLevel } from '../auth/sealing.ts';
import type { Queryable } from '../store/resources.ts';

export interface Owner {
  identity: Identity;
  scopes: ResourceScope[];
}

export function accessOf(owner: Owner): Access {
  return { clientId: owner.identity.clientId, scopes: owner.scopes, identity: owner.identity, subject: '' };
}

/**
 * `resource` as the owner may read it now (scopes, then the access policy: legitimate relationship, sealing,
 * restricted role, which also shapes it); undefined when it may not. `sealedNow`: the level of the resource's
 * current row (a version of a resource sealed since is withheld too).
 */
export async function ownerView(
  db: Queryable,
  owner: Owner,
  resource: Resource,
  graceMs: number,
  cache: AccessCache,
  sealedNow = 0,
): Promise<Resource | undefined> {
  const queries = restrictions(accessOf(owner), resource.resourceType, 'r');
  if (queries === null) return undefined;
  if (
    queries &&
    !queries.some((q) => matchesSearchRequest(resource, parseSearchRequest(`${resource.resourceType}?${q}`)))
  ) {
    return undefined;
  }
  const guard = new Guard(owner.identity, graceMs, cache);
  const sealed = Math.max(sealLevel(resource), sealedNow) as SealLevel;
  if (!(await guard.allowsResource(db, resource, undefined, sealed))) return undefined;
  const shape = await guard.shaper(db);
  return JSON.parse(shape(resource.resourceType, JSON.stringify(resource))) as Resource;
}
