/**
 * The SQL of refresh tokens (auth/refresh-tokens.ts; migration 020): grants
 * (one sign-in's permission to refresh) and their chain of tokens, kept as
 * hashes. Rotation is one statement, so two uses of one token cannot both win.
 */
import type { Queryable } from './resources.ts';

export interface StoredRefreshGrant {
  id: string;
  clientId: string;
  username: string;
  practitionerRole: string;
  organization: string;
  scope: string[];
  patient?: string;
  access: 'online' | 'offline';
  expiresAt: Date;
  revokedAt?: Date;
}

/** A presented token and its grant; `usedAt` set when it has been exchanged already. */
export interface StoredRefreshToken {
  usedAt?: Date;
  grant: StoredRefreshGrant;
}

interface GrantRow {
  id: string;
  client_id: string;
  username: string;
  practitioner_role: string;
  organization: string;
  scope: string;
  patient: string | null;
  access: 'online' | 'offline';
  expires_at: Date;
  revoked_at: Date | null;
}

function toGrant(row: GrantRow): StoredRefreshGrant {
  return {
    id: row.id,
    clientId: row.client_id,
    username: row.username,
    practitionerRole: row.practitioner_role,
    organization: row.organization,
    scope: row.scope.split(' ').filter(Boolean),
    ...(row.patient ? { patient: row.patient } : {}),
    access: row.access,
    expiresAt: row.expires_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

/** A new grant with its first token (one statement); grants ended a day ago are cleared first. */
export async function insertRefreshGrant(
  db: Queryable,
  grant: Omit<StoredRefreshGrant, 'expiresAt' | 'revokedAt'> & { lifetimeSeconds: number },
  tokenHash: string,
): Promise<void> {
  await db.query(`DELETE FROM auth_refresh_grant WHERE expires_at < now() - interval '1 day'`);
  await db.query(
    `WITH g AS (
       INSERT INTO auth_refresh_grant (id, client_id, username, practitioner_role, organization, scope, patient, access,
         expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9)) RETURNING id)
     INSERT INTO auth_refresh_token (token_hash, grant_id) SELECT $10, id FROM g`,
    [
      grant.id,
      grant.clientId,
      grant.username,
      grant.practitionerRole,
      grant.organization,
      grant.scope.join(' '),
      grant.patient ?? null,
      grant.access,
      grant.lifetimeSeconds,
      tokenHash,
    ],
  );
}

/** The token with this hash and its grant, or undefined. */
export async function findRefreshToken(db: Queryable, tokenHash: string): Promise<StoredRefreshToken | undefined> {
  const { rows } = await db.query<GrantRow & { used_at: Date | null }>(
    `SELECT t.used_at, g.* FROM auth_refresh_token t JOIN auth_refresh_grant g ON g.id = t.grant_id
      WHERE t.token_hash = $1`,
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { ...(row.used_at ? { usedAt: row.used_at } : {}), grant: toGrant(row) };
}

/**
 * Marks the token used and adds its successor to the grant, if the token is
 * unused and its grant neither revoked nor ended: whether it did.
 */
export async function rotateRefreshToken(db: Queryable, tokenHash: string, nextHash: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH used AS (
       UPDATE auth_refresh_token t SET used_at = now()
        WHERE t.token_hash = $1 AND t.used_at IS NULL
          AND EXISTS (SELECT 1 FROM auth_refresh_grant g
                       WHERE g.id = t.grant_id AND g.revoked_at IS NULL AND g.expires_at > now())
        RETURNING t.grant_id)
     INSERT INTO auth_refresh_token (token_hash, grant_id) SELECT $2, grant_id FROM used`,
    [tokenHash, nextHash],
  );
  return rowCount === 1;
}

/** Revokes a grant: none of its tokens works again (the first reason is kept). */
export async function revokeRefreshGrant(db: Queryable, grantId: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE auth_refresh_grant SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`,
    [grantId, reason],
  );
}
