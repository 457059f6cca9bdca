/**
 * The signed-in user's session: the access token and who they act as, kept in sessionStorage only (gone when
 * the tab closes; never in localStorage, cookies or URLs). Hearth's tokens live 5 minutes with no refresh token,
 * so an expired session means signing in again.
 */

export interface Session {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scope: string;
  /** The user's Practitioner (the token response's fhirUser), e.g. Practitioner/abc. */
  practitioner?: string;
  /** The role they signed in as, and its organisation (claims of Hearth's access token). */
  practitionerRole?: string;
  organization?: string;
}

const KEY = 'hearth.session';

export function saveSession(session: Session, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(session));
}

/** The stored session if it has not expired (with 10 s to spare). */
export function loadSession(storage: Storage = sessionStorage, now = Date.now()): Session | undefined {
  const text = storage.getItem(KEY);
  if (!text) return undefined;
  try {
    const session = JSON.parse(text) as Session;
    return session.accessToken && session.expiresAt - 10_000 > now ? session : undefined;
  } catch {
    return undefined;
  }
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}

/** The claims of a JWT access token (not verified: the server verifies it; the client only reads who it is for). */
export function tokenClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The session from a token response (RFC 6749 §5.1, SMART App Launch). */
export function sessionFromToken(answer: Record<string, unknown>, now = Date.now()): Session {
  const accessToken = String(answer.access_token ?? '');
  const claims = tokenClaims(accessToken);
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    accessToken,
    expiresAt: now + Number(answer.expires_in ?? 300) * 1000,
    scope: String(answer.scope ?? ''),
    practitioner: text(answer.fhirUser) ?? text(claims.fhirUser),
    practitionerRole: text(claims.practitioner_role),
    organization: text(claims.organization),
  };
}
