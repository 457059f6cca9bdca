/**
 * SMART discovery and Backend Services against the built-in authorization
 * server (SMART App Launch 2.x backend-services, client-confidential-asymmetric;
 * RFC 7523 client assertions; RFC 7662 introspection). Clients sign with their
 * own keys, made here with jose; one publishes its keys at a URL.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClient } from '../../server/src/auth/clients.ts';
import { createPool } from '../../server/src/store/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface TestClient {
  id: string;
  alg: 'ES384' | 'RS384';
  kid: string;
  key: CryptoKey;
  jwk: JWK;
}

async function makeClient(alg: TestClient['alg']): Promise<TestClient> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return {
    id: `client-${randomUUID()}`,
    alg,
    kid,
    key: privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg },
  };
}

let s: TestServer;
let tokenUrl: string;
let es: TestClient;
let rs: TestClient;
let remote: TestClient;
let jwksServer: http.Server;

beforeAll(async () => {
  s = await startTestServer();
  tokenUrl = `${new URL(s.baseUrl).origin}/auth/token`;
  [es, rs, remote] = await Promise.all([makeClient('ES384'), makeClient('RS384'), makeClient('ES384')]);
  jwksServer = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: [remote.jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  const pool = createPool(s.databaseUrl, 1);
  try {
    const scope = 'system/*.rs system/Task.cruds';
    await registerClient(pool, { clientId: es.id, name: 'ES partner', jwks: { keys: [es.jwk] }, scope });
    await registerClient(pool, { clientId: rs.id, name: 'RS partner', jwks: { keys: [rs.jwk] }, scope });
    await registerClient(pool, { clientId: remote.id, name: 'JWKS by URL', jwksUri, scope: 'system/Patient.rs' });
  } finally {
    await pool.end();
  }
});
afterAll(async () => {
  await s?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

interface AssertionOptions {
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  jti?: string;
  kid?: string;
  key?: CryptoKey;
}

async function assertion(client: TestClient, o: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: o.jti ?? randomUUID() })
    .setProtectedHeader({ alg: client.alg, kid: o.kid ?? client.kid, typ: 'JWT' })
    .setIssuer(o.iss ?? client.id)
    .setSubject(o.sub ?? client.id)
    .setAudience(o.aud ?? tokenUrl)
    .setExpirationTime(o.exp ?? now + 240)
    .sign(o.key ?? client.key);
}

function requestToken(clientAssertion: string, scope = 'system/*.rs', extra: Record<string, string> = {}) {
  return s.http
    .post('/auth/token')
    .type('form')
    .send({
      grant_type: 'client_credentials',
      scope,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: clientAssertion,
      ...extra,
    });
}

describe('discovery', () => {
  it('serves .well-known/smart-configuration as application/json whatever the Accept, with absolute URLs', async () => {
    for (const accept of ['application/fhir+json', 'text/html', '*/*']) {
      const res = await s.http.get('/fhir/.well-known/smart-configuration').set('Accept', accept);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body.grant_types_supported).toContain('client_credentials');
      expect(res.body.code_challenge_methods_supported).toContain('S256');
      expect(res.body.code_challenge_methods_supported).not.toContain('plain');
      expect(res.body.capabilities).toContain('client-confidential-asymmetric');
      expect(res.body.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384']);
      for (const key of ['token_endpoint', 'jwks_uri', 'introspection_endpoint', 'issuer']) {
        expect(new URL(res.body[key]).origin).toBe(new URL(s.baseUrl).origin);
      }
    }
  });
});

describe('client_credentials with private_key_jwt', () => {
  it('grants a short-lived bearer token to an ES384 and an RS384 client, with no refresh token', async () => {
    for (const client of [es, rs]) {
      const res = await requestToken(await assertion(client), 'system/Patient.rs system/Task.cruds');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.token_type).toBe('Bearer');
      expect(res.body.expires_in).toBeLessThanOrEqual(300);
      expect(res.body.scope).toBe('system/Patient.rs system/Task.cruds');
      expect(res.body.refresh_token).toBeUndefined();
      expect(typeof res.body.access_token).toBe('string');
    }
  });

  it('fetches the keys of a client registered by JWKS URL', async () => {
    const res = await requestToken(await assertion(remote), 'system/Patient.rs');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('grants only what the client may have, in v2 form; v1 scopes are read as v2', async () => {
    const res = await requestToken(await assertion(remote), 'system/Patient.read system/Task.rs system/Patient.cruds');
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('system/Patient.rs');
    const none = await requestToken(await assertion(remote), 'system/Task.rs');
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
    const outOfOrder = await requestToken(await assertion(es), 'system/Task.sr');
    expect(outOfOrder.status).toBe(400);
  });

  it('refuses a replayed jti, a far expiry, a wrong audience, an unknown kid, iss other than sub, a foreign key', async () => {
    const jti = randomUUID();
    expect((await requestToken(await assertion(es, { jti }))).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const stranger = await makeClient('ES384');
    const cases: [string, string][] = [
      ['replayed jti', await assertion(es, { jti })],
      ['expiry beyond 5 minutes', await assertion(es, { exp: now + 3600 })],
      ['expired', await assertion(es, { exp: now - 120 })],
      ['wrong audience', await assertion(es, { aud: `${s.baseUrl}/token` })],
      ['unknown kid', await assertion(es, { kid: 'not-registered' })],
      ['iss other than sub', await assertion(es, { sub: rs.id })],
      ['unknown client', await assertion(stranger)],
      ['signed with another key', await assertion(es, { key: stranger.key })],
      ['not a JWT', 'not.a.jwt'],
    ];
    for (const [what, jwt] of cases) {
      const res = await requestToken(jwt);
      expect(res.status, what).toBe(401);
      expect(res.body.error, what).toBe('invalid_client');
      expect(res.headers['www-authenticate'], what).toContain('invalid_client');
    }
  });

  it('refuses alg none and HS256 assertions', async () => {
    const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const claims = {
      iss: es.id,
      sub: es.id,
      aud: tokenUrl,
      exp: Math.floor(Date.now() / 1000) + 60,
      jti: randomUUID(),
    };
    const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
    expect((await requestToken(none)).status).toBe(401);
    const hs = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: es.kid })
      .setIssuer(es.id)
      .setSubject(es.id)
      .setAudience(tokenUrl)
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('a shared secret that is long enough'));
    expect((await requestToken(hs)).status).toBe(401);
  });

  it('answers other grant types and a missing assertion with OAuth errors', async () => {
    const code = await s.http.post('/auth/token').type('form').send({ grant_type: 'password' });
    expect(code.status).toBe(400);
    expect(code.body.error).toBe('unsupported_grant_type');
    const bare = await s.http.post('/auth/token').type('form').send({ grant_type: 'client_credentials' });
    expect(bare.status).toBe(401);
    expect(bare.body.error).toBe('invalid_client');
  });
});

describe('introspection', () => {
  it('says active with scope, client_id and exp for a current token; inactive for anything else', async () => {
    const token = (await requestToken(await assertion(es), 'system/Task.rs')).body.access_token as string;
    const res = await s.http.post('/auth/introspect').type('form').send({ token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ active: true, scope: 'system/Task.rs', client_id: es.id });
    expect(res.body.exp).toBeGreaterThan(Date.now() / 1000);
    for (const bad of ['', 'garbage', `${token.slice(0, -4)}AAAA`]) {
      const answer = await s.http.post('/auth/introspect').type('form').send({ token: bad });
      expect(answer.body).toEqual({ active: false });
    }
    const expired = await new SignJWT({ scope: 'system/Task.rs', client_id: es.id })
      .setProtectedHeader({ alg: 'ES384', kid: es.kid, typ: 'at+jwt' })
      .setIssuer(`${new URL(s.baseUrl).origin}/auth`)
      .setAudience(s.baseUrl)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(es.key);
    expect((await s.http.post('/auth/introspect').type('form').send({ token: expired })).body).toEqual({
      active: false,
    });
  });

  it('shares the signing key between nodes on one database (behind one public base URL)', async () => {
    const token = (await requestToken(await assertion(es), 'system/Task.rs')).body.access_token as string;
    const other = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_BASE_URL: s.baseUrl }, s.databaseUrl);
    try {
      const res = await other.http.post('/auth/introspect').type('form').send({ token });
      expect(res.body.active).toBe(true);
    } finally {
      await other.close();
    }
  });
});
