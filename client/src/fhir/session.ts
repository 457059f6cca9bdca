/**
 * The signed-in user's session: the access token, the refresh token (the sign-in asks for `online_access`) and
 * who they act as, kept in sessionStorage only (gone when the tab closes; never in localStorage, cookies or
 * URLs). The session keeper (keeper.ts) renews both tokens before the access token ends.
 */

export interface Session {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scope: string;
  /** The refresh token of the latest token response, if Hearth gave one; sent at most once. */
  refreshToken?: string;
  /** Where to refresh: the token_endpoint of the smart-configuration read at sign-in. */
  tokenEndpoint?: string;
  /** The user's Practitioner (the token response's fhirUser), e.g. Practitioner/abc. */
  practitioner?: string;
  /** The role they signed in as, and its organisation (the token response's hearth_ fields). */
  practitionerRole?: string;
  organization?: string;
}

const KEY = 'hearth.session';

export function saveSession(session: Session, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(session));
}

/**
 * The stored session if it can still be used: its access token has not expired (with 10 s to spare), or it
 * holds a refresh token to renew it with (the keeper refreshes at once).
 */
export function loadSession(storage: Storage = sessionStorage, now = Date.now()): Session | undefined {
  const text = storage.getItem(KEY);
  if (!text) return undefined;
  try {
    const session = JSON.parse(text) as Session;
    if (!session.accessToken) return undefined;
    return session.expiresAt - 10_000 > now || (session.refreshToken && session.tokenEndpoint) ? session : undefined;
  } catch {
    return undefined;
  }
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}

/**
 * The session from a token response (RFC 6749 §5.1, SMART App Launch; Hearth's context fields in
 * docs/security-tokens.md). The access token is not decoded: its claims are not an API.
 */
export function sessionFromToken(answer: Record<string, unknown>, tokenEndpoint?: string, now = Date.now()): Session {
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    accessToken: String(answer.access_token ?? ''),
    expiresAt: now + Number(answer.expires_in ?? 300) * 1000,
    scope: String(answer.scope ?? ''),
    refreshToken: text(answer.refresh_token),
    tokenEndpoint,
    practitioner: text(answer.fhirUser),
    practitionerRole: text(answer.hearth_practitioner_role),
    organization: text(answer.hearth_organization),
  };
}
