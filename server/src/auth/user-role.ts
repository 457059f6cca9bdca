/**
 * Whether a user may still act in a role, checked at every sign-in, code
 * exchange and refresh: the directory (auth_user_role) still gives them the
 * role at the same organisation, and the PractitionerRole, if Hearth holds
 * it, is neither deleted, inactive, outside its period, nor moved to another
 * organisation. A role Hearth holds no resource for is the directory's alone.
 */
import type { PractitionerRole } from '@medplum/fhirtypes';
import type pg from 'pg';
import { loadUserRole } from '../store/user-roles.ts';

export interface CurrentRole {
  practitioner: string;
  organization: string;
}

/** Why the role may not be acted in (now), or undefined if it may. */
export function roleEnded(
  resource: { content: string | null } | undefined,
  organization: string,
  now: number,
): string | undefined {
  if (!resource) return undefined;
  if (resource.content === null) return 'the PractitionerRole has been deleted';
  const role = JSON.parse(resource.content) as PractitionerRole;
  if (role.active === false) return 'the PractitionerRole is not active';
  if (role.period?.end && Date.parse(role.period.end) < now) return 'the PractitionerRole has ended';
  if (role.period?.start && Date.parse(role.period.start) > now) return 'the PractitionerRole has not started';
  const at = role.organization?.reference;
  if (at && at !== organization) return 'the PractitionerRole is at another organisation';
  return undefined;
}

/**
 * The user's role as it is now, or why they may no longer act in it;
 * `organization` (the one at sign-in), when given, must still be the role's.
 */
export async function currentRole(
  pool: pg.Pool,
  username: string,
  practitionerRole: string,
  organization?: string,
): Promise<CurrentRole | { ended: string }> {
  const row = await loadUserRole(pool, username, practitionerRole);
  if (!row) return { ended: 'the user or their role no longer exists' };
  if (organization && row.organization !== organization) return { ended: 'the role has moved to another organisation' };
  const ended = roleEnded(row.resource, row.organization, Date.now());
  if (ended) return { ended };
  return { practitioner: row.practitioner, organization: row.organization };
}
