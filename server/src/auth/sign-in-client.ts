/**
 * Signing a user in as the Hearth web client does (authorization code +
 * PKCE, the sign-in form posted as a browser would) and getting their access
 * token: for `pnpm hearth token --user` and the security benchmark.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { WEB_CLIENT_ID } from './clients.ts';

/** Authorization code + PKCE against the web client's registration, the sign-in form posted as a browser would. */
export async function userToken(
  baseUrl: string,
  username: string,
  password: string,
  scope: string,
  /** The patient to launch with (launch/patient), by id or NHS number. */
  patient?: string,
): Promise<string> {
  const origin = new URL(baseUrl).origin;
  const verifier = randomBytes(32).toString('base64url');
  const request = {
    response_type: 'code',
    client_id: WEB_CLIENT_ID,
    redirect_uri: `${origin}/`,
    scope,
    state: randomUUID(),
    aud: baseUrl,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  const signIn = await fetch(`${origin}/auth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...request, username, password, ...(patient ? { patient } : {}) }),
  });
  const code = new URL(signIn.headers.get('location') ?? origin).searchParams.get('code');
  if (signIn.status !== 302 || !code) throw new Error(`sign-in of ${username} did not succeed (${signIn.status})`);
  const response = await fetch(`${origin}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: WEB_CLIENT_ID,
      redirect_uri: request.redirect_uri,
    }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`/auth/token answered ${response.status}: ${JSON.stringify(body)}`);
  return body.access_token as string;
}
