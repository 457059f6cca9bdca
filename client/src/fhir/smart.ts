/**
 * Signing in with SMART App Launch (standalone, authorization code + PKCE S256) against Hearth's own
 * authorization server, discovered at [fhir base]/.well-known/smart-configuration. The app is the public
 * client `hearth-web`; its registered redirect URI is the origin's root, where this page lives.
 */
import { challengeOf, randomToken } from './pkce.ts';
import { saveSession, sessionFromToken, type Session } from './session.ts';

export const CLIENT_ID = 'hearth-web';
/** `online_access`: a refresh token for the sign-in session (docs/security-tokens.md). */
export const SCOPE = 'user/*.cruds online_access';
const PENDING = 'hearth.sign-in';

interface SmartConfiguration {
  authorization_endpoint: string;
  token_endpoint: string;
}

interface PendingSignIn {
  state: string;
  verifier: string;
  tokenEndpoint: string;
  /** The screen to come back to (a hash route: ids only). */
  returnTo: string;
}

export function fhirBase(origin = location.origin): string {
  return `${origin}/fhir`;
}

export function redirectUri(origin = location.origin): string {
  return `${origin}/`;
}

async function discover(base: string): Promise<SmartConfiguration> {
  const res = await fetch(`${base}/.well-known/smart-configuration`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`The sign-in service could not be found (${res.status})`);
  return (await res.json()) as SmartConfiguration;
}

/** The authorization request URL (SMART App Launch 2.x §2.0.5). */
export function authorizeUrl(endpoint: string, params: { state: string; challenge: string; origin: string }): string {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(params.origin),
    scope: SCOPE,
    state: params.state,
    aud: fhirBase(params.origin),
    code_challenge: params.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

/** Sends the browser to Hearth's sign-in page. */
export async function startSignIn(returnTo: string): Promise<void> {
  const config = await discover(fhirBase());
  const pending: PendingSignIn = {
    state: randomToken(16),
    verifier: randomToken(32),
    tokenEndpoint: config.token_endpoint,
    returnTo,
  };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const challenge = await challengeOf(pending.verifier);
  location.assign(
    authorizeUrl(config.authorization_endpoint, { state: pending.state, challenge, origin: location.origin }),
  );
}

/**
 * On return from the sign-in page (`/?code=…&state=…`): checks the state, exchanges the code once with the
 * verifier, stores the session and takes the code out of the address bar. Undefined when this is no return.
 */
export function completeSignIn(): Promise<{ session: Session; returnTo: string } | undefined> {
  completing ??= exchange();
  return completing;
}

let completing: Promise<{ session: Session; returnTo: string } | undefined> | undefined;

async function exchange(): Promise<{ session: Session; returnTo: string } | undefined> {
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  const error = query.get('error');
  if (!code && !error) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as PendingSignIn | null;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', `/${pending?.returnTo ?? ''}`);
  if (error) throw new Error(query.get('error_description') ?? `Sign-in failed: ${error}`);
  if (!pending || query.get('state') !== pending.state) throw new Error('Sign-in failed: the answer did not match');
  const res = await fetch(pending.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      code_verifier: pending.verifier,
      client_id: CLIENT_ID,
      redirect_uri: redirectUri(),
    }),
  });
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(String(answer.error_description ?? `Sign-in failed (${res.status})`));
  const session = sessionFromToken(answer, pending.tokenEndpoint);
  saveSession(session);
  return { session, returnTo: pending.returnTo };
}
