/**
 * Getting access tokens from a test server the way real callers do: a system
 * by SMART Backend Services (a registered key, a signed client assertion), a
 * user by signing in (authorization code + PKCE through the sign-in form).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { expect } from 'vitest';
import { registerClient, WEB_CLIENT_ID, type Client } from '../../server/src/auth/clients.ts';
import { DIRECTORY_TYPES } from '../../server/src/auth/scopes.ts';
import { registerUser, type User } from '../../server/src/auth/users.ts';
import { createPool } from '../../server/src/store/database.ts';
import type { TestServer } from './server.ts';

/**
 * Everything a test's administrator does: every type, and the directory's
 * writes named (`*` does not reach them, nor grant them from a ceiling).
 */
// Teams (CareTeams without a subject) are written with a scope naming CareTeam too (Guard.checkTeamWrite).
export const ADMIN_SCOPE = [
  'system/*.cruds',
  ...[...DIRECTORY_TYPES, 'CareTeam'].map((type) => `system/${type}.cruds`),
].join(' ');

export interface SystemClient {
  clientId: string;
  key: CryptoKey;
}

/** Registers a system client with a fresh ES384 key. */
export async function registerSystem(
  s: TestServer,
  client: Omit<Client, 'jwks' | 'jwksUri' | 'name'> & { name?: string },
): Promise<SystemClient> {
  const pair = await generateKeyPair('ES384', { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES384' };
  const pool = createPool(s.databaseUrl, 1);
  try {
    await registerClient(pool, { name: client.clientId, ...client, jwks: { keys: [jwk] } });
  } finally {
    await pool.end();
  }
  return { clientId: client.clientId, key: pair.privateKey };
}

/** The token endpoint's answer to a client_credentials request with a fresh client assertion (not checked). */
export async function requestSystemToken(s: TestServer, client: SystemClient, scope: string) {
  const tokenUrl = `${new URL(s.baseUrl).origin}/auth/token`;
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(tokenUrl)
    .setExpirationTime('2m')
    .sign(client.key);
  return s.http.post('/auth/token').type('form').send({
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
}

export async function systemToken(s: TestServer, client: SystemClient, scope: string): Promise<string> {
  const res = await requestSystemToken(s, client, scope);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}

export async function registerUsers(s: TestServer, users: (User & { password: string })[]): Promise<void> {
  const pool = createPool(s.databaseUrl, 1);
  try {
    for (const user of users) await registerUser(pool, user);
  } finally {
    await pool.end();
  }
}

/** The authorization request of the web client, with a fresh PKCE pair. */
export function authorizeRequest(s: TestServer, scope = 'user/*.cruds') {
  const verifier = randomBytes(32).toString('base64url');
  const origin = new URL(s.baseUrl).origin;
  return {
    verifier,
    params: {
      response_type: 'code',
      client_id: WEB_CLIENT_ID,
      redirect_uri: `${origin}/`,
      scope,
      state: randomUUID(),
      aud: s.baseUrl,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    },
  };
}

/** Signs a user in through the sign-in form and exchanges the code: the access token. */
export async function userToken(
  s: TestServer,
  username: string,
  password: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const { verifier, params } = authorizeRequest(s);
  const signIn = await s.http
    .post('/auth/authorize')
    .type('form')
    .send({ ...params, username, password, ...extra });
  expect(signIn.status, signIn.text).toBe(302);
  const back = new URL(signIn.headers.location);
  expect(back.searchParams.get('state')).toBe(params.state);
  const res = await s.http
    .post('/auth/token')
    .type('form')
    .send({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code'),
      code_verifier: verifier,
      client_id: params.client_id,
      redirect_uri: params.redirect_uri,
    });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.access_token as string;
}
