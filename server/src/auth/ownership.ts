/**
 * Resources that belong to a caller rather than to a patient: a Subscription
 * (its endpoint, headers and what it watches) is its owner's alone. The owner
 * is the organisation the caller acts for, or a client without one; the
 * server tags the resource with it on every write (a client cannot set it),
 * and every read, search and history shows an owned resource to its owner
 * only (anyone else is told it is not known).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Identity } from './guard.ts';

export const OWNER_TAG = 'https://hearth.example/fhir/CodeSystem/owner';
export const OWNED_TYPES: ReadonlySet<string> = new Set(['Subscription']);

export function ownerKey(identity: Identity): string {
  return identity.organization ?? `client:${identity.clientId}`;
}

/** The resource with its owner tag set to `key` (any tag a client put there replaced). */
export function withOwner<T extends Resource>(resource: T, key: string | undefined): T {
  const tags = (resource.meta?.tag ?? []).filter((t) => t.system !== OWNER_TAG);
  if (key) tags.push({ system: OWNER_TAG, code: key });
  return { ...resource, meta: { ...resource.meta, tag: tags.length ? tags : undefined } };
}

export function ownedBy(resource: Resource, key: string): boolean {
  return !!resource.meta?.tag?.some((t) => t.system === OWNER_TAG && t.code === key);
}
