/**
 * SMART scopes (App Launch 2.x, scopes-and-launch-context): v2
 * `context/Type.cruds[?query]` and the v1 forms `.read`, `.write`, `.*`
 * (read as `.rs`, `.cud`, `.cruds`). Permissions must be a subset of `cruds`
 * in that order; anything else is not a resource scope.
 */
export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  resourceType: string;
  /** Subset of c, r, u, d, s. */
  permissions: string;
  /** A v2 granular restriction, e.g. `category=laboratory`, or undefined. */
  query?: string;
}

/**
 * The directory: the types whose writes decide who a caller is. A user or
 * system acts as its PractitionerRole, every role of its organisation (a
 * PractitionerRole's organisation) and the teams it is a member of (a
 * CareTeam's participants) (policy.ts); an external identity provider's role
 * is found by a PractitionerRole's identifier at an Organization's ODS code,
 * with the role's Practitioner (external-idp.ts). Writing them needs a scope
 * naming the type; reading them does not. A team (a CareTeam with no subject)
 * is the directory's too, but a person's care team is clinical work: that rule
 * is on content (Guard.checkWrite), not on the type.
 */
export const DIRECTORY_TYPES: ReadonlySet<string> = new Set(['Organization', 'Practitioner', 'PractitionerRole']);

/** Whether the scopes name `resourceType` itself (not through `*`) for `permission`, without a query. */
export function namesType(scopes: readonly ResourceScope[], resourceType: string, permission: string): boolean {
  return scopes.some(
    (s) => s.resourceType === resourceType && s.query === undefined && s.permissions.includes(permission),
  );
}

const WRITES = new Set(['c', 'u', 'd']);

/**
 * Whether a `*` scope reaches `permission` on the type: not the audit trail
 * (only a scope naming AuditEvent, the audit role's, reads it) nor writes of
 * the directory, in a token as in a client's ceiling.
 */
export function wildcardReaches(resourceType: string, permission: string): boolean {
  if (resourceType === 'AuditEvent') return false;
  return !(DIRECTORY_TYPES.has(resourceType) && WRITES.has(permission));
}

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)(?:\?(.+))?$/;
const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

export function parseScope(scope: string): ResourceScope | undefined {
  const match = SCOPE.exec(scope);
  if (!match) return undefined;
  const [, context, resourceType, raw, query] = match;
  const permissions = V1[raw] ?? raw;
  if (!/^c?r?u?d?s?$/.test(permissions) || permissions === '') return undefined;
  return { context: context as ResourceScope['context'], resourceType, permissions, query };
}

export function formatScope(scope: ResourceScope): string {
  return `${scope.context}/${scope.resourceType}.${scope.permissions}${scope.query ? `?${scope.query}` : ''}`;
}

/** Whether `allowed` grants everything `wanted` asks (same context, type or *, its permissions, no wider query). */
export function covers(allowed: ResourceScope, wanted: ResourceScope): boolean {
  if (allowed.context !== wanted.context) return false;
  if (allowed.resourceType !== '*' && allowed.resourceType !== wanted.resourceType) return false;
  // The audit trail and the directory's writes are granted only by a ceiling that names the type.
  if (allowed.resourceType === '*' && ![...wanted.permissions].every((p) => wildcardReaches(wanted.resourceType, p))) {
    return false;
  }
  if (![...wanted.permissions].every((p) => allowed.permissions.includes(p))) return false;
  return allowed.query === undefined || allowed.query === wanted.query;
}

/**
 * What both scopes grant, or undefined: one context, the named type where one
 * is `*` (with only the permissions `*` reaches on it), the permissions in
 * both, and the query of either (two different queries: undefined, never
 * wider than either).
 */
export function intersect(a: ResourceScope, b: ResourceScope): ResourceScope | undefined {
  if (a.context !== b.context) return undefined;
  if (a.query !== undefined && b.query !== undefined && a.query !== b.query) return undefined;
  if (a.resourceType !== b.resourceType && a.resourceType !== '*' && b.resourceType !== '*') return undefined;
  const resourceType = a.resourceType === '*' ? b.resourceType : a.resourceType;
  const throughWildcard = resourceType !== '*' && (a.resourceType === '*' || b.resourceType === '*');
  const permissions = [...'cruds'].filter(
    (p) =>
      a.permissions.includes(p) && b.permissions.includes(p) && (!throughWildcard || wildcardReaches(resourceType, p)),
  );
  if (!permissions.length) return undefined;
  return { context: a.context, resourceType, permissions: permissions.join(''), query: a.query ?? b.query };
}

/**
 * Resource scopes capped by a ceiling: what each grants that the ceiling
 * grants too (normalised, v2). Scopes that are not resource scopes are dropped.
 */
export function capScopes(scopes: string[], ceiling: string): string[] {
  const ceilings = ceiling
    .split(/\s+/)
    .map(parseScope)
    .filter((c) => c !== undefined);
  const capped = scopes
    .map(parseScope)
    .filter((s) => s !== undefined)
    .flatMap((s) => ceilings.map((c) => intersect(s, c)))
    .filter((s) => s !== undefined);
  return [...new Set(capped.map(formatScope))];
}

/** The launch-context scope of a standalone launch that asks the user to choose a patient. */
export const LAUNCH_PATIENT = 'launch/patient';
/** A refresh token usable while the user's sign-in session lasts (SMART `online_access`). */
export const ONLINE_ACCESS = 'online_access';
/** A refresh token usable after the user has gone (SMART `offline_access`): only for clients registered for it. */
export const OFFLINE_ACCESS = 'offline_access';

/** Scopes that are not resource scopes, granted as asked when the client's ceiling lists them. */
const OTHER_SCOPES: ReadonlySet<string> = new Set([LAUNCH_PATIENT, ONLINE_ACCESS, OFFLINE_ACCESS]);

/**
 * The scopes to grant for a request: each requested resource scope that one
 * allowed scope covers (in its normalised v2 form), and `launch/patient`,
 * `online_access` and `offline_access` when the ceiling has them; other requested scopes (e.g. unknown or v1 out of
 * order) are dropped, never widened.
 */
export function grantScopes(requested: string, allowed: string): string[] {
  const ceilings = allowed
    .split(/\s+/)
    .filter(Boolean)
    .map(parseScope)
    .filter((s) => s !== undefined);
  const granted: string[] = [];
  for (const raw of requested.split(/\s+/).filter(Boolean)) {
    if (OTHER_SCOPES.has(raw) && allowed.split(/\s+/).includes(raw)) granted.push(raw);
    const wanted = parseScope(raw);
    if (wanted && ceilings.some((ceiling) => covers(ceiling, wanted))) granted.push(formatScope(wanted));
  }
  return [...new Set(granted)];
}

/** Whether a scope needs a patient in context (launch/patient, or a patient/ scope). */
export function needsPatient(scope: string): boolean {
  return scope === LAUNCH_PATIENT || scope.startsWith('patient/');
}

/**
 * The scopes of a refresh request (RFC 6749 §6; SMART App Launch "Refresh
 * access token"): none asked means all the grant's; otherwise each asked must
 * be within the grant (a resource scope covered by a granted one, in its
 * normalised form; any other granted as it is) and one at least a resource
 * scope. Undefined when the request asks for more than the grant.
 */
export function narrowScopes(requested: string | undefined, granted: readonly string[]): string[] | undefined {
  const asked = (requested ?? '').split(/\s+/).filter(Boolean);
  if (!asked.length) return [...granted];
  const ceilings = granted.map(parseScope).filter((s) => s !== undefined);
  const narrowed: string[] = [];
  for (const raw of asked) {
    const wanted = parseScope(raw);
    if (wanted && ceilings.some((ceiling) => covers(ceiling, wanted))) narrowed.push(formatScope(wanted));
    else if (!wanted && granted.includes(raw)) narrowed.push(raw);
    else return undefined;
  }
  return narrowed.some((s) => parseScope(s)) ? [...new Set(narrowed)] : undefined;
}
