/**
 * What a request may do, from its access token's scopes (SMART v2 `cruds`).
 * `undefined` access means security is off (HEARTH_AUTH=off): everything is
 * allowed. Scopes are a ceiling: a missing permission is a 403 for the
 * interaction (inside a transaction, for the whole transaction); resources
 * a search includes are left out when the token may not read their type.
 * Scopes with a query restriction (SMART v2 granular, `user/Task.rs?owner=…`)
 * grant their interactions on the resources that match the query
 * (restrictions()): read and search see only matches; a create or update
 * must leave a match, an update or delete must start from one (checked by
 * the Repository in the write's transaction).
 */
import { FhirError } from '../fhir/errors.ts';
import type { AccessClaims } from './authorization-server.ts';
import { TokenRejected } from './external-idp.ts';
import type { Identity } from './guard.ts';
import { parseScope, wildcardReaches, type ResourceScope } from './scopes.ts';

export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export interface Access {
  clientId: string;
  scopes: ResourceScope[];
  /** Who the caller is (user or system), for legitimate-relationship access. */
  identity: Identity;
  /** The user's name or the client's id, for the audit trail. */
  subject: string;
}

export function accessFrom(claims: AccessClaims): Access {
  // patient/ scopes grant nothing without a patient in context (a token issued without one).
  const scopes = claims.scope
    .split(/\s+/)
    .map(parseScope)
    .filter((s): s is ResourceScope => s !== undefined && (s.context !== 'patient' || !!claims.identity.patient));
  return { clientId: claims.clientId, scopes, identity: claims.identity, subject: claims.subject };
}

/** The bearer token of an Authorization header, verified; 401 (RFC 6750) when missing or not valid. */
export async function authenticateBearer(
  verify: (token: string) => Promise<AccessClaims>,
  authorization: string | undefined,
): Promise<Access> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
  if (!token) {
    throw new FhirError('unauthorized', 'An access token is required (Authorization: Bearer …)', {
      headers: { 'WWW-Authenticate': 'Bearer realm="hearth"' },
    });
  }
  try {
    return accessFrom(await verify(token));
  } catch (error) {
    const reason = error instanceof TokenRejected ? error.message : 'The access token is not valid or has expired';
    throw new FhirError('unauthorized', reason, {
      headers: { 'WWW-Authenticate': 'Bearer realm="hearth", error="invalid_token"' },
    });
  }
}

/**
 * Whether the access may do `permission` on `resourceType` ('*': on every type).
 * The audit trail is read, and the directory written, only with a scope naming the type, never through `*`.
 */
export function allows(access: Access | undefined, resourceType: string, permission: Permission): boolean {
  if (!access) return true;
  return access.scopes.some((s) => s.query === undefined && grants(s, resourceType, permission));
}

/** Whether the scope (its query aside) grants `permission` on `resourceType`. */
function grants(scope: ResourceScope, resourceType: string, permission: Permission): boolean {
  if (!scope.permissions.includes(permission)) return false;
  return (
    scope.resourceType === resourceType || (scope.resourceType === '*' && wildcardReaches(resourceType, permission))
  );
}

/**
 * Undefined when a scope allows the permission outright, else the queries of
 * the restricted scopes that allow it (the resource must match one), or null
 * when none does.
 */
export function restrictions(
  access: Access | undefined,
  resourceType: string,
  permission: Permission,
): string[] | undefined | null {
  if (allows(access, resourceType, permission)) return undefined;
  const queries = access!.scopes
    .filter((s) => s.query !== undefined && grants(s, resourceType, permission))
    .map((s) => s.query!);
  return queries.length ? queries : null;
}

/** Throws 403 (insufficient scope) unless the access may do `permission` on `resourceType`. */
export function requireScope(access: Access | undefined, resourceType: string, permission: Permission): void {
  if (allows(access, resourceType, permission)) return;
  throw insufficientScope(resourceType, permission);
}

/** Like requireScope, also passing a write that restricted scopes allow on what matches them (checked on writing). */
export function requireWriteScope(access: Access | undefined, resourceType: string, permission: 'c' | 'u' | 'd'): void {
  if (restrictions(access, resourceType, permission) !== null) return;
  throw insufficientScope(resourceType, permission);
}

/** The 403 of an interaction the scopes do not allow (RFC 6750 insufficient_scope). */
export function insufficientScope(resourceType: string, permission: Permission, detail = ''): FhirError {
  const what = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' }[permission];
  return new FhirError(
    'forbidden',
    `The access token does not allow ${what} on ${resourceType === '*' ? 'every type' : resourceType}${detail}`,
    { headers: { 'WWW-Authenticate': 'Bearer realm="hearth", error="insufficient_scope"' } },
  );
}
