/**
 * Access tokens as the FHIR API sees them (RFC 6750 answers: 401 with
 * error="invalid_token" for anything that is not a current token of this
 * server, 403 with error="insufficient_scope" for a token that may not do
 * the interaction), and the user sign-in flow (authorization code + PKCE,
 * S256 only, codes used once) with introspection and SMART discovery.
 * Tokens are forged here with the server's own signing key, read from its
 * database, so that exactly one claim at a time is wrong.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../server/src/store/database.ts';
import { authorizeRequest, registerSystem, registerUsers, systemToken } from '../support/auth.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
let origin: string;
let issuer: string;
let signingKey: { kid: string; key: CryptoKey };

const password = 'a long enough test password';
const ONE_ROLE = { practitionerRole: 'PractitionerRole/solo-role', organization: 'Organization/trust' };
const ROLES = [
  { practitionerRole: 'PractitionerRole/dual-gp', organization: 'Organization/gp' },
  { practitionerRole: 'PractitionerRole/dual-trust', organization: 'Organization/trust' },
];

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on' });
  origin = new URL(s.baseUrl).origin;
  issuer = `${origin}/auth`;
  const pool = createPool(s.databaseUrl, 1);
  try {
    const { rows } = await pool.query<{ kid: string; private_jwk: JWK }>(
      'SELECT kid, private_jwk FROM auth_signing_key ORDER BY created_at, kid LIMIT 1',
    );
    expect(rows).toHaveLength(1);
    signingKey = { kid: rows[0]!.kid, key: (await importJWK(rows[0]!.private_jwk, 'ES256')) as CryptoKey };
  } finally {
    await pool.end();
  }
  await registerUsers(s, [
    { username: 'solo', name: 'Solo', password, practitioner: 'Practitioner/solo', roles: [ONE_ROLE] },
    { username: 'dual', name: 'Dual', password, practitioner: 'Practitioner/dual', roles: ROLES },
  ]);
}, 60_000);
afterAll(async () => s?.close());

interface Forgery {
  exp?: number;
  iss?: string;
  aud?: string;
  typ?: string;
  kid?: string;
  key?: CryptoKey;
  claims?: JWTPayload;
}

/** An access token signed like the server's own (ES256, its kid, at+jwt), with one thing changed at a time. */
async function accessToken(o: Forgery = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'system/*.cruds', client_id: 'forger', all_patients: true, ...o.claims })
    .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? signingKey.kid, typ: o.typ ?? 'at+jwt' })
    .setIssuer(o.iss ?? issuer)
    .setAudience(o.aud ?? s.baseUrl)
    .setSubject('forger')
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(o.exp ?? now + 120)
    .sign(o.key ?? signingKey.key);
}

const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

function fhirGet(token: string) {
  return s.http.get('/fhir/Patient').set('Accept', FHIR_JSON).set('Authorization', `Bearer ${token}`);
}

describe('access tokens on the FHIR API', () => {
  it('accepts a token made with the right key and claims (so the forgeries below differ in one thing only)', async () => {
    const res = await fhirGet(await accessToken());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
  });

  it('answers 401 invalid_token for expired, misaddressed, forged, unsigned and garbage tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stranger = await generateKeyPair('ES256', { extractable: true });
    const claims = {
      scope: 'system/*.cruds',
      client_id: 'forger',
      all_patients: true,
      sub: 'forger',
      iss: issuer,
      aud: s.baseUrl,
      exp: now + 120,
    };
    const cases: [string, string][] = [
      ['expired', await accessToken({ exp: now - 120 })],
      ['wrong audience', await accessToken({ aud: `${origin}/other-fhir` })],
      ['audience of the token endpoint', await accessToken({ aud: `${origin}/auth/token` })],
      ['wrong issuer', await accessToken({ iss: 'https://issuer.example.org/auth' })],
      ['typ JWT instead of at+jwt', await accessToken({ typ: 'JWT' })],
      ['no scope claim', await accessToken({ claims: { scope: undefined } })],
      ['same kid, another key', await accessToken({ key: stranger.privateKey })],
      ['alg none', `${encode({ alg: 'none', typ: 'at+jwt', kid: signingKey.kid })}.${encode(claims)}.`],
      ['alg none, no signature part', `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(claims)}`],
      ['random string', randomBytes(24).toString('base64url')],
    ];
    for (const [what, token] of cases) {
      const res = await fhirGet(token);
      expect(res.status, what).toBe(401);
      expect(res.body.resourceType, what).toBe('OperationOutcome');
      expect(res.headers['www-authenticate'], what).toContain('error="invalid_token"');
    }
  });

  it('answers 401 without an error code when no token is sent', async () => {
    const res = await s.http.get('/fhir/Patient').set('Accept', FHIR_JSON);
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.headers['www-authenticate']).not.toContain('invalid_token');
  });

  it('answers 403 insufficient_scope when the token may read but not create', async () => {
    const client = await registerSystem(s, { clientId: 'reader', scope: 'system/*.cruds', allPatients: true });
    const token = await systemToken(s, client, 'system/Patient.rs');
    const read = await fhirGet(token);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    const res = await s.http
      .post('/fhir/Patient')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', FHIR_JSON)
      .set('Accept', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Scope' }] }));
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });
});

/** Posts the sign-in form: the answer (302 back to the app, or the page again). */
async function signIn(
  params: Record<string, string>,
  username: string,
  pw: string,
  extra: Record<string, string> = {},
) {
  return s.http
    .post('/auth/authorize')
    .type('form')
    .send({ ...params, username, password: pw, ...extra });
}

function exchange(code: string | null, verifier: string, redirectUri: string) {
  return s.http.post('/auth/token').type('form').send({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: 'hearth-web',
    redirect_uri: redirectUri,
  });
}

/** A fresh code for the single-role user. */
async function freshCode() {
  const { verifier, params } = authorizeRequest(s);
  const res = await signIn(params, 'solo', password);
  expect(res.status, res.text).toBe(302);
  const back = new URL(res.headers.location);
  expect(back.origin + back.pathname).toBe(params.redirect_uri);
  expect(back.searchParams.get('state')).toBe(params.state);
  const code = back.searchParams.get('code');
  expect(code).toBeTruthy();
  return { verifier, params, code: code! };
}

describe('authorization code + PKCE', () => {
  it('sends a request without S256 PKCE back to the app with invalid_request and the state', async () => {
    const { params } = authorizeRequest(s);
    const { code_challenge: _c, code_challenge_method: _m, ...withoutPkce } = params;
    const plainVerifier = randomBytes(32).toString('base64url');
    for (const [what, query] of [
      ['no code_challenge', withoutPkce],
      ['method plain', { ...params, code_challenge: plainVerifier, code_challenge_method: 'plain' }],
      ['no method', { ...withoutPkce, code_challenge: params.code_challenge }],
    ] as const) {
      const res = await s.http.get('/auth/authorize').query(query);
      expect(res.status, what).toBe(302);
      const back = new URL(res.headers.location);
      expect(back.origin + back.pathname, what).toBe(params.redirect_uri);
      expect(back.searchParams.get('error'), what).toBe('invalid_request');
      expect(back.searchParams.get('state'), what).toBe(params.state);
      expect(back.searchParams.has('code'), what).toBe(false);
    }
  });

  it('never redirects to an unregistered redirect_uri or for an unknown client', async () => {
    const { params } = authorizeRequest(s);
    for (const [what, query] of [
      ['another host', { ...params, redirect_uri: 'https://attacker.example.org/' }],
      ['another path', { ...params, redirect_uri: `${origin}/callback` }],
      ['unknown client', { ...params, client_id: 'no-such-client' }],
    ] as const) {
      const res = await s.http.get('/auth/authorize').query(query);
      expect(res.status, what).toBe(400);
      expect(res.headers.location, what).toBeUndefined();
      expect(res.text, what).toContain('Sign-in cannot start');
    }
    // Nor does the sign-in form, even with the right password.
    const posted = await signIn({ ...params, redirect_uri: 'https://attacker.example.org/' }, 'solo', password);
    expect(posted.status).toBe(400);
    expect(posted.headers.location).toBeUndefined();
  });

  it('shows the sign-in page with a form, not cached, under a CSP with form-action', async () => {
    const { params } = authorizeRequest(s);
    const res = await s.http.get('/auth/authorize').query(params);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<form method="post"');
    expect(res.text).toContain('name="password"');
    expect(res.text).toContain(`name="code_challenge" value="${params.code_challenge}"`);
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain('form-action');
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('shows the page again with an error for a wrong password or unknown user, and no redirect', async () => {
    const { params } = authorizeRequest(s);
    for (const [user, pw] of [
      ['solo', 'not the password'],
      ['nobody', password],
    ]) {
      const res = await signIn(params, user!, pw!);
      expect(res.status, user).toBe(200);
      expect(res.headers.location, user).toBeUndefined();
      expect(res.headers['content-type'], user).toMatch(/^text\/html/);
      expect(res.text, user).toContain('The username or password is not right');
      expect(res.text, user).toContain('<form method="post"');
    }
  });

  it('refuses a wrong code_verifier, and the code is then used up', async () => {
    const { verifier, params, code } = await freshCode();
    const wrong = await exchange(code, randomBytes(32).toString('base64url'), params.redirect_uri);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const right = await exchange(code, verifier, params.redirect_uri);
    expect(right.status).toBe(400);
    expect(right.body.error).toBe('invalid_grant');
    expect(right.body.access_token).toBeUndefined();
  });

  it('refuses a code presented with another redirect_uri, and the code is then used up', async () => {
    const { verifier, params, code } = await freshCode();
    const wrong = await exchange(code, verifier, `${origin}/elsewhere`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const right = await exchange(code, verifier, params.redirect_uri);
    expect(right.status).toBe(400);
    expect(right.body.error).toBe('invalid_grant');
  });

  it('exchanges a code once for a short-lived bearer token with no refresh token', async () => {
    const { verifier, params, code } = await freshCode();
    const res = await exchange(code, verifier, params.redirect_uri);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(typeof res.body.access_token).toBe('string');
    expect(res.body.token_type).toBe('Bearer');
    expect(res.body.expires_in).toBeGreaterThan(0);
    expect(res.body.expires_in).toBeLessThanOrEqual(300);
    expect(res.body.scope).toBe('user/*.cruds');
    expect(res.body.refresh_token).toBeUndefined();
    const claims = decodeJwt(res.body.access_token as string);
    expect(claims).toMatchObject({ sub: 'solo', client_id: 'hearth-web', iss: issuer, aud: s.baseUrl });
    expect(claims.practitioner_role).toBe(ONE_ROLE.practitionerRole);
    const again = await exchange(code, verifier, params.redirect_uri);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    expect(again.body.access_token).toBeUndefined();
  });

  it('refuses an unknown code and a token request missing the verifier', async () => {
    const { verifier, params } = authorizeRequest(s);
    const unknown = await exchange(randomBytes(32).toString('base64url'), verifier, params.redirect_uri);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
    const { code } = await freshCode();
    const bare = await s.http.post('/auth/token').type('form').send({
      grant_type: 'authorization_code',
      code,
      client_id: 'hearth-web',
      redirect_uri: params.redirect_uri,
    });
    expect(bare.status).toBe(400);
    expect(bare.body.error).toBe('invalid_request');
  });

  it('asks a user with two roles to choose one, then issues a token for the chosen role', async () => {
    const { verifier, params } = authorizeRequest(s);
    const choose = await signIn(params, 'dual', password);
    expect(choose.status, choose.text).toBe(200);
    expect(choose.headers.location).toBeUndefined();
    expect(choose.text).toContain('<select name="role">');
    for (const role of ROLES) expect(choose.text).toContain(`<option value="${role.practitionerRole}">`);
    expect(choose.text).not.toContain('role="alert"');

    const notMine = await signIn(params, 'dual', password, { role: 'PractitionerRole/solo-role' });
    expect(notMine.status).toBe(200);
    expect(notMine.headers.location).toBeUndefined();
    expect(notMine.text).toContain('Choose one of your roles');

    const chosen = ROLES[1]!.practitionerRole;
    const res = await signIn(params, 'dual', password, { role: chosen });
    expect(res.status, res.text).toBe(302);
    const back = new URL(res.headers.location);
    expect(back.searchParams.get('state')).toBe(params.state);
    const token = await exchange(back.searchParams.get('code'), verifier, params.redirect_uri);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const accessToken = token.body.access_token as string;
    expect(decodeJwt(accessToken).practitioner_role).toBe(chosen);
    expect(decodeJwt(accessToken).organization).toBe(ROLES[1]!.organization);

    const introspected = await s.http.post('/auth/introspect').type('form').send({ token: accessToken });
    expect(introspected.status).toBe(200);
    expect(introspected.headers['cache-control']).toBe('no-store');
    expect(introspected.body).toMatchObject({
      active: true,
      scope: 'user/*.cruds',
      client_id: 'hearth-web',
      sub: 'dual',
      fhirUser: 'Practitioner/dual',
    });
    expect(introspected.body.exp).toBeGreaterThan(Date.now() / 1000);
    expect(introspected.body.exp).toBeLessThanOrEqual(Date.now() / 1000 + 301);
  });

  it('introspects garbage, a forged token and an expired one as inactive', async () => {
    const stranger = await generateKeyPair('ES256');
    for (const [what, token] of [
      ['garbage', 'garbage'],
      ['random', randomBytes(40).toString('base64url')],
      ['forged', await accessToken({ key: stranger.privateKey })],
      ['expired', await accessToken({ exp: Math.floor(Date.now() / 1000) - 120 })],
    ] as const) {
      const res = await s.http.post('/auth/introspect').type('form').send({ token });
      expect(res.status, what).toBe(200);
      expect(res.body, what).toEqual({ active: false });
    }
    const empty = await s.http.post('/auth/introspect').type('form').send({});
    expect(empty.body).toEqual({ active: false });
  });
});

describe('SMART configuration', () => {
  it('is JSON whatever the Accept, S256 only, with absolute endpoint URLs', async () => {
    const res = await s.http.get('/fhir/.well-known/smart-configuration').set('Accept', 'text/html');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const config = res.body as Record<string, unknown>;
    expect(config.authorization_endpoint).toBe(`${origin}/auth/authorize`);
    expect(config.token_endpoint).toBe(`${origin}/auth/token`);
    expect(config.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'client_credentials']));
    expect(config.code_challenge_methods_supported).toEqual(['S256']);
    expect(Array.isArray(config.capabilities)).toBe(true);
    expect(config.capabilities).toEqual(expect.arrayContaining(['launch-standalone', 'client-public']));
    const endpoints = Object.keys(config).filter((k) => k.endsWith('_endpoint'));
    expect(endpoints.length).toBeGreaterThanOrEqual(2);
    for (const key of [...endpoints, 'jwks_uri', 'issuer']) {
      const value = config[key];
      expect(typeof value, key).toBe('string');
      const url = new URL(value as string);
      expect(url.protocol, key).toMatch(/^https?:$/);
      expect(url.origin, key).toBe(origin);
    }
  });
});
