/**
 * Token introspection (RFC 7662; SMART App Launch "Token Introspection"):
 * an access token of this server (a JWT) or a refresh token (opaque) that
 * would be accepted now is `active` with its scopes, client, expiry, subject
 * and context; anything else is `{ active: false }`, nothing more.
 */
import type { AccessClaims } from './authorization-server.ts';
import type { RefreshTokens } from './refresh-tokens.ts';
import { hearthContext } from './token-context.ts';

export interface IntrospectionDeps {
  issuer: string;
  /** The FHIR base URL: an access token's audience. */
  audience: string;
  verifyAccessToken: (token: string) => Promise<AccessClaims>;
  refreshTokens: RefreshTokens;
}

export async function introspect(token: string | undefined, deps: IntrospectionDeps): Promise<Record<string, unknown>> {
  if (!token) return { active: false };
  // Access tokens are JWTs (with dots); refresh tokens are base64url (without).
  if (!token.includes('.')) return introspectRefresh(token, deps);
  try {
    const claims = await deps.verifyAccessToken(token);
    return {
      active: true,
      scope: claims.scope,
      client_id: claims.clientId,
      exp: claims.expiresAt,
      token_type: 'Bearer',
      iss: deps.issuer,
      sub: claims.subject,
      ...(claims.identity.practitioner ? { fhirUser: claims.identity.practitioner } : {}),
      ...(claims.identity.patient ? { patient: claims.identity.patient } : {}),
      ...hearthContext({
        practitioner_role: claims.identity.practitionerRole,
        organization: claims.identity.organization,
      }),
      aud: deps.audience,
    };
  } catch {
    return { active: false };
  }
}

/**
 * A refresh token that would be accepted now: its grant's scopes (the ceiling
 * of every refresh), client, end (`exp`: the grant's, not extended by
 * rotation) and user; no `token_type` (RFC 7662 means an access token's type).
 */
async function introspectRefresh(token: string, deps: IntrospectionDeps): Promise<Record<string, unknown>> {
  const found = await deps.refreshTokens.active(token);
  if (!found) return { active: false };
  const { grant, role } = found;
  return {
    active: true,
    scope: grant.scope.join(' '),
    client_id: grant.clientId,
    exp: Math.floor(grant.expiresAt.getTime() / 1000),
    iss: deps.issuer,
    sub: grant.username,
    fhirUser: role.practitioner,
    ...(grant.patient ? { patient: grant.patient } : {}),
    ...hearthContext({ practitioner_role: grant.practitionerRole, organization: role.organization }),
  };
}
