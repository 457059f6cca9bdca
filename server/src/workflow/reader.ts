/**
 * Who is reading (collaboration state, migration 011) and whom a message to
 * them is addressed to. A reader is a person: a user's Practitioner, the same
 * whichever role they sign in with; a system token reads as its client. A
 * message is for the reader when a recipient is them, their role, their
 * organisation or a team any of those is a current member of (not a
 * colleague's role: their messages are theirs).
 */
import type { Access } from '../auth/access.ts';
import { teamsOf } from '../auth/policy.ts';
import { FhirError } from '../fhir/errors.ts';
import { loadMemberships } from '../store/access.ts';
import type { Queryable } from '../store/resources.ts';

export function readerOf(access: Access | undefined): string {
  if (!access)
    throw new FhirError('forbidden', 'Read state is kept per user: this needs an access token (HEARTH_AUTH=on)');
  const { kind, practitioner, clientId } = access.identity;
  return kind === 'user' && practitioner ? practitioner : `client:${clientId}`;
}

/** The parties (Type/id) a message to the reader may be addressed to. */
export async function addresseesOf(access: Access, db: Queryable, now = Date.now()): Promise<string[]> {
  const { practitioner, practitionerRole, organization } = access.identity;
  const own = [practitioner, practitionerRole, organization].filter((p): p is string => !!p);
  if (!own.length) return [];
  const teams = teamsOf(new Set(own), await loadMemberships(db, own), { now, graceMs: 0 });
  return [...own, ...teams];
}

/** The parties the reader writes as (their own messages are not news to them). */
export function selvesOf(access: Access): string[] {
  const { practitioner, practitionerRole } = access.identity;
  return [practitioner, practitionerRole].filter((p): p is string => !!p);
}
