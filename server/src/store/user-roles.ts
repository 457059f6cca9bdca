/** The SQL behind re-checking a signed-in user's role (auth/user-role.ts): the directory row and the PractitionerRole. */
import type { Queryable } from './resources.ts';

export interface UserRoleRow {
  practitioner: string;
  /** The organisation the directory places the role at (Organization/id). */
  organization: string;
  /** The PractitionerRole resource's current row: undefined if Hearth has none, content null if deleted. */
  resource?: { content: string | null };
}

/** The user's role as the directory has it (undefined: no such user, or the role is not theirs), with its resource. */
export async function loadUserRole(
  db: Queryable,
  username: string,
  practitionerRole: string,
): Promise<UserRoleRow | undefined> {
  const [type, id] = practitionerRole.split('/');
  const { rows } = await db.query<{
    practitioner: string;
    organization: string;
    found: boolean;
    content: string | null;
  }>(
    `SELECT u.practitioner, r.organization, x.id IS NOT NULL AS found, CASE WHEN x.deleted THEN NULL ELSE x.content END AS content
       FROM auth_user u
       JOIN auth_user_role r ON r.username = u.username AND r.practitioner_role = $2
       LEFT JOIN resource x ON x.resource_type = $3 AND x.id = $4
      WHERE u.username = $1`,
    [username, practitionerRole, type, id ?? ''],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    practitioner: row.practitioner,
    organization: row.organization,
    ...(row.found ? { resource: { content: row.content } } : {}),
  };
}
