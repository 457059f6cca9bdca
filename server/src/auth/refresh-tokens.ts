/**
 * Refresh tokens of the authorization-code flow (SMART App Launch "Refresh
 * access token"; RFC 6749 §6; OAuth 2.0 Security BCP §4.14): asked for with
 * `online_access` (ends with the sign-in session) or `offline_access` (a
 * longer lifetime, for clients whose registered ceiling lists it). Opaque
 * random strings, stored as SHA-256 hashes, bound to the client, user, role
 * and granted scopes. Every use rotates: the token presented is spent and a
 * new one returned; a spent token presented again revokes its whole grant
 * (one of two parties holding it is a thief; which one is not knowable).
 * Each refresh re-checks the user's role as a sign-in would (user-role.ts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  findRefreshToken,
  insertRefreshGrant,
  revokeRefreshGrant,
  rotateRefreshToken,
  type StoredRefreshGrant,
} from '../store/refresh-tokens.ts';
import { OAuthError } from './oauth-error.ts';
import { narrowScopes, OFFLINE_ACCESS, ONLINE_ACCESS } from './scopes.ts';
import { currentRole, type CurrentRole } from './user-role.ts';

export interface RefreshConfig {
  /** HEARTH_REFRESH_ONLINE_HOURS: how long an `online_access` grant lasts from sign-in (the sign-in session). */
  onlineHours: number;
  /** HEARTH_REFRESH_OFFLINE_DAYS: how long an `offline_access` grant lasts from sign-in. */
  offlineDays: number;
}

export const DEFAULT_REFRESH: RefreshConfig = { onlineHours: 8, offlineDays: 30 };

/** What a sign-in grants, to start refreshing from. */
export interface SignedIn {
  clientId: string;
  username: string;
  practitionerRole: string;
  organization: string;
  scope: string[];
  patient?: string;
}

/** A refresh that succeeded: the grant, the user's role now, the access token's scopes and the next refresh token. */
export interface Refreshed {
  grant: StoredRefreshGrant;
  role: CurrentRole;
  scope: string[];
  refreshToken: string;
}

/** The kind of refresh the granted scopes ask for (offline wins over online), or undefined for none. */
export function refreshAccess(scope: readonly string[]): 'online' | 'offline' | undefined {
  if (scope.includes(OFFLINE_ACCESS)) return 'offline';
  return scope.includes(ONLINE_ACCESS) ? 'online' : undefined;
}

export class RefreshTokens {
  constructor(
    private readonly pool: pg.Pool,
    private readonly config: RefreshConfig,
  ) {}

  /** A grant and its first refresh token, when the sign-in's scopes ask for one. */
  async start(signedIn: SignedIn): Promise<string | undefined> {
    const access = refreshAccess(signedIn.scope);
    if (!access) return undefined;
    const token = newToken();
    const lifetimeSeconds = access === 'offline' ? this.config.offlineDays * 86_400 : this.config.onlineHours * 3600;
    await insertRefreshGrant(
      this.pool,
      { ...signedIn, id: randomUUID(), access, lifetimeSeconds: Math.round(lifetimeSeconds) },
      hash(token),
    );
    return token;
  }

  /** `grant_type=refresh_token`: the next access scopes and refresh token, or an OAuth error. */
  async redeem(token: string | undefined, clientId: string | undefined, scope: string | undefined): Promise<Refreshed> {
    if (!token || !clientId) throw new OAuthError(400, 'invalid_request', 'refresh_token and client_id are required');
    const found = await findRefreshToken(this.pool, hash(token));
    if (!found || found.grant.clientId !== clientId) {
      throw new OAuthError(400, 'invalid_grant', 'The refresh token is not valid (unknown, or not for this client)');
    }
    const { grant } = found;
    const who = { username: grant.username, practitionerRole: grant.practitionerRole };
    const refuse = (description: string) => new OAuthError(400, 'invalid_grant', description, who);
    if (grant.revokedAt) throw refuse('The refresh token has been revoked; sign in again');
    if (found.usedAt) {
      await revokeRefreshGrant(this.pool, grant.id, 'reuse');
      throw refuse('The refresh token has been used before: every token of its sign-in is revoked; sign in again');
    }
    if (grant.expiresAt.getTime() <= Date.now()) throw refuse('The refresh token has expired; sign in again');
    const narrowed = narrowScopes(scope, grant.scope);
    if (!narrowed) {
      throw new OAuthError(400, 'invalid_scope', 'A refresh may ask for the scopes granted at sign-in or fewer', who);
    }
    const role = await currentRole(this.pool, grant.username, grant.practitionerRole, grant.organization);
    if ('ended' in role) {
      await revokeRefreshGrant(this.pool, grant.id, 'role');
      throw refuse(`The user may no longer act in this role (${role.ended}); sign in again`);
    }
    const next = newToken();
    if (!(await rotateRefreshToken(this.pool, hash(token), hash(next)))) {
      // Another request spent it between our read and this write: reuse as well.
      await revokeRefreshGrant(this.pool, grant.id, 'reuse');
      throw refuse('The refresh token has been used before: every token of its sign-in is revoked; sign in again');
    }
    return { grant, role, scope: narrowed, refreshToken: next };
  }

  /** The grant of a refresh token that would be accepted now (RFC 7662), with the user's role; else undefined. */
  async active(token: string): Promise<{ grant: StoredRefreshGrant; role: CurrentRole } | undefined> {
    const found = await findRefreshToken(this.pool, hash(token));
    if (!found || found.usedAt || found.grant.revokedAt || found.grant.expiresAt.getTime() <= Date.now()) {
      return undefined;
    }
    const { grant } = found;
    const role = await currentRole(this.pool, grant.username, grant.practitionerRole, grant.organization);
    return 'ended' in role ? undefined : { grant, role };
  }
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
