/**
 * Refresh tokens of the built-in authorization server (SMART App Launch 2.2
 * "Refresh access token" and scopes `online_access` / `offline_access`;
 * RFC 6749 §6; OAuth 2.0 Security BCP §4.14 rotation and reuse detection;
 * RFC 7662 introspection), through real HTTP: the sign-in form, the token
 * endpoint, the FHIR API and the audit trail. Also Hearth's token response
 * context (`hearth_practitioner_role`, `hearth_organization`).
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClient, WEB_CLIENT_ID } from '../../server/src/auth/clients.ts';
import { createPool } from '../../server/src/store/database.ts';
import { authorizeRequest, registerSystem, registerUsers, requestSystemToken, systemToken } from '../support/auth.ts';
import { adminToken, organisationResources, PASSWORD } from '../support/organisations.ts';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
let origin: string;
let admin: string;
let auditor: string;

const OFFLINE_CLIENT = 'offline-app';
const PEOPLE = ['rota', 'reuse', 'narrow', 'intro', 'ender', 'mover', 'audited', 'offline'];
const roleOf = (username: string) => `PractitionerRole/${username}-role`;
const user = (username: string, organization = 'trust') => ({
  username,
  name: username,
  password: PASSWORD,
  practitioner: `Practitioner/${username}`,
  roles: [{ practitionerRole: roleOf(username), organization: `Organization/${organization}` }],
});

async function withPool<T>(server: TestServer, run: (pool: ReturnType<typeof createPool>) => Promise<T>): Promise<T> {
  const pool = createPool(server.databaseUrl, 1);
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on' });
  origin = new URL(s.baseUrl).origin;
  admin = await adminToken(s);
  auditor = await systemToken(
    s,
    await registerSystem(s, { clientId: 'auditor', scope: 'system/AuditEvent.rs', allPatients: true }),
    'system/AuditEvent.rs',
  );
  await putAll(
    s,
    admin,
    organisationResources(
      [{ id: 'trust' }, { id: 'gp' }],
      PEOPLE.map((username) => ({ username, organization: 'trust' })),
    ),
  );
  await registerUsers(
    s,
    PEOPLE.map((username) => user(username)),
  );
  // A public app registered for offline access (its ceiling lists offline_access).
  await withPool(s, (pool) =>
    registerClient(pool, {
      clientId: OFFLINE_CLIENT,
      name: 'Offline app',
      scope: 'user/*.cruds offline_access',
      redirectUris: [`${origin}/offline-app/`],
    }),
  );
}, 90_000);
afterAll(async () => s?.close());

/** Signs `username` in (sign-in form, then the code exchange): the token response. */
async function signIn(
  username: string,
  scope: string,
  client = WEB_CLIENT_ID,
  redirectUri = `${origin}/`,
  server = s,
): Promise<Record<string, unknown>> {
  const { verifier, params } = authorizeRequest(server, scope);
  const request = { ...params, client_id: client, redirect_uri: redirectUri };
  const form = await server.http
    .post('/auth/authorize')
    .type('form')
    .send({ ...request, username, password: PASSWORD });
  expect(form.status, form.text).toBe(302);
  const code = new URL(form.headers.location).searchParams.get('code');
  expect(code).toBeTruthy();
  const res = await server.http.post('/auth/token').type('form').send({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: client,
    redirect_uri: redirectUri,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Record<string, unknown>;
}

function refresh(token: unknown, extra: Record<string, string> = {}, server = s) {
  return server.http
    .post('/auth/token')
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: String(token), client_id: WEB_CLIENT_ID, ...extra });
}

function introspect(token: unknown, server = s) {
  return server.http
    .post('/auth/introspect')
    .type('form')
    .send({ token: String(token) });
}

function fhir(token: unknown, method: 'get' | 'post' = 'get') {
  const req = s.http[method]('/fhir/Patient')
    .set('Authorization', `Bearer ${String(token)}`)
    .set('Accept', FHIR_JSON);
  return method === 'post'
    ? req.set('Content-Type', FHIR_JSON).send(JSON.stringify({ resourceType: 'Patient', name: [{ family: 'R' }] }))
    : req;
}

function expectRefused(res: { status: number; body: Record<string, unknown> }, error = 'invalid_grant') {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error).toBe(error);
  expect(res.body.access_token).toBeUndefined();
  expect(res.body.refresh_token).toBeUndefined();
}

describe('discovery (SMART App Launch: conformance)', () => {
  it('advertises the refresh_token grant, online_access / offline_access and permission-online / -offline', async () => {
    const res = await s.http.get('/fhir/.well-known/smart-configuration');
    expect(res.status).toBe(200);
    expect(res.body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    expect(res.body.scopes_supported).toEqual(expect.arrayContaining(['online_access', 'offline_access']));
    expect(res.body.capabilities).toEqual(expect.arrayContaining(['permission-online', 'permission-offline']));
  });
});

describe('issuing refresh tokens', () => {
  it('issues none without online_access or offline_access, and gives the role and organisation as context', async () => {
    const body = await signIn('rota', 'user/*.cruds');
    expect(body.refresh_token).toBeUndefined();
    expect(body.scope).toBe('user/*.cruds');
    expect(body.fhirUser).toBe('Practitioner/rota');
    expect(body.hearth_practitioner_role).toBe(roleOf('rota'));
    expect(body.hearth_organization).toBe('Organization/trust');
  });

  it('issues an opaque online refresh token to the web client, stored only as a hash', async () => {
    const body = await signIn('rota', 'user/*.cruds online_access');
    expect(body.scope).toBe('user/*.cruds online_access');
    expect(typeof body.refresh_token).toBe('string');
    const token = body.refresh_token as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await withPool(s, (pool) =>
      pool.query<{ token_hash: string }>('SELECT token_hash FROM auth_refresh_token'),
    );
    expect(stored.rows.length).toBeGreaterThan(0);
    expect(stored.rows.map((r) => r.token_hash)).not.toContain(token);
  });

  it('does not give the web client offline_access (online only), but a client registered for it', async () => {
    const webOffline = await signIn('offline', 'user/*.cruds offline_access');
    expect(webOffline.scope).toBe('user/*.cruds');
    expect(webOffline.refresh_token).toBeUndefined();
    const both = await signIn('offline', 'user/*.cruds offline_access online_access');
    expect(both.scope).toBe('user/*.cruds online_access');
    const online = await introspect(both.refresh_token);
    expect(online.body.active).toBe(true);
    const hours = (Number(online.body.exp) - Date.now() / 1000) / 3600;
    expect(hours).toBeGreaterThan(7.9);
    expect(hours).toBeLessThanOrEqual(8);

    const app = await signIn('offline', 'user/*.rs offline_access', OFFLINE_CLIENT, `${origin}/offline-app/`);
    expect(app.scope).toBe('user/*.rs offline_access');
    const offline = await introspect(app.refresh_token);
    expect(offline.body).toMatchObject({ active: true, client_id: OFFLINE_CLIENT });
    const days = (Number(offline.body.exp) - Date.now() / 1000) / 86_400;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    // Bound to its client: the web client may not use it.
    expectRefused(await refresh(app.refresh_token));
    const own = await refresh(app.refresh_token, { client_id: OFFLINE_CLIENT });
    expect(own.status, JSON.stringify(own.body)).toBe(200);
  });

  it('never gives a system (client_credentials) a refresh token, even with offline_access in its ceiling', async () => {
    const system = await registerSystem(s, { clientId: 'system-offline', scope: 'system/*.rs offline_access' });
    const res = await requestSystemToken(s, system, 'system/*.rs offline_access');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.scope).toBe('system/*.rs');
    expect(res.body.refresh_token).toBeUndefined();
  });
});

describe('grant_type=refresh_token (rotation)', () => {
  it('returns a working access token and a new refresh token each time; the spent one is refused', async () => {
    const first = await signIn('rota', 'user/*.cruds online_access');
    let current = first.refresh_token as string;
    for (let i = 0; i < 3; i++) {
      const res = await refresh(current);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        scope: 'user/*.cruds online_access',
        fhirUser: 'Practitioner/rota',
        hearth_practitioner_role: roleOf('rota'),
        hearth_organization: 'Organization/trust',
      });
      expect(res.body.expires_in).toBeLessThanOrEqual(300);
      expect(res.body.refresh_token).not.toBe(current);
      const claims = decodeJwt(res.body.access_token as string);
      expect(claims).toMatchObject({ sub: 'rota', client_id: WEB_CLIENT_ID, practitioner_role: roleOf('rota') });
      expect((await fhir(res.body.access_token)).status).toBe(200);
      current = res.body.refresh_token as string;
    }
  });

  it('refuses unknown tokens, a missing client_id and another client', async () => {
    const body = await signIn('rota', 'user/*.cruds online_access');
    expectRefused(await refresh('not-a-token'));
    expectRefused(await refresh(body.refresh_token, { client_id: '' }), 'invalid_request');
    expectRefused(await refresh(body.refresh_token, { client_id: OFFLINE_CLIENT }));
    // None of these spent it.
    expect((await refresh(body.refresh_token)).status).toBe(200);
  });

  it('revokes the whole sign-in when a spent token is presented again (reuse detection)', async () => {
    const body = await signIn('reuse', 'user/*.cruds online_access');
    const stolen = body.refresh_token as string;
    const legit = await refresh(stolen);
    expect(legit.status).toBe(200);
    const next = legit.body.refresh_token as string;
    expect((await introspect(next)).body.active).toBe(true);
    // The thief (or the client, replaying) presents the spent token: refused, and its family revoked.
    const replay = await refresh(stolen);
    expectRefused(replay);
    expect(replay.body.error_description).toMatch(/used before/);
    expectRefused(await refresh(next));
    expect((await introspect(next)).body).toEqual({ active: false });
    // Another sign-in of the same user is not affected.
    const other = await signIn('reuse', 'user/*.cruds online_access');
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  it('lets only one of two simultaneous uses of one token win, and then revokes the family', async () => {
    const body = await signIn('reuse', 'user/*.cruds online_access');
    const [a, b] = await Promise.all([refresh(body.refresh_token), refresh(body.refresh_token)]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const winner = a.status === 200 ? a : b;
    expectRefused(await refresh(winner.body.refresh_token));
  });
});

describe('scope on refresh (RFC 6749 §6: no wider than granted)', () => {
  it('gives a narrower access token, then the full grant again when scope is left out', async () => {
    const body = await signIn('narrow', 'user/*.cruds online_access');
    const narrow = await refresh(body.refresh_token, { scope: 'user/Patient.rs' });
    expect(narrow.status, JSON.stringify(narrow.body)).toBe(200);
    expect(narrow.body.scope).toBe('user/Patient.rs');
    expect(decodeJwt(narrow.body.access_token as string).scope).toBe('user/Patient.rs');
    expect((await fhir(narrow.body.access_token)).status).toBe(200);
    expect((await fhir(narrow.body.access_token, 'post')).status).toBe(403);
    const full = await refresh(narrow.body.refresh_token);
    expect(full.status).toBe(200);
    expect(full.body.scope).toBe('user/*.cruds online_access');
  });

  it('refuses a wider scope with invalid_scope, and the token stays usable', async () => {
    const body = await signIn('narrow', 'user/Patient.rs online_access');
    for (const scope of [
      'user/*.cruds',
      'user/Patient.cruds',
      'user/Observation.rs',
      'user/Patient.rs offline_access',
      'user/AuditEvent.rs',
      'online_access',
    ]) {
      const res = await refresh(body.refresh_token, { scope });
      expectRefused(res, 'invalid_scope');
    }
    const ok = await refresh(body.refresh_token, { scope: 'user/Patient.r' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.scope).toBe('user/Patient.r');
  });
});

describe('the user is re-checked at each refresh, as at sign-in', () => {
  it('refuses (and revokes) once the PractitionerRole has ended, even if it is restored', async () => {
    const body = await signIn('ender', 'user/*.cruds online_access');
    const ok = await refresh(body.refresh_token);
    expect(ok.status).toBe(200);
    const [, role] = organisationResources([], [{ username: 'ender', organization: 'trust' }]);
    await putAll(s, admin, [{ ...role, period: { end: '2020-01-01T00:00:00Z' } }]);
    expect((await introspect(ok.body.refresh_token)).body).toEqual({ active: false });
    const ended = await refresh(ok.body.refresh_token);
    expectRefused(ended);
    expect(ended.body.error_description).toMatch(/no longer act in this role.*ended/);
    // Nor may they sign in to it.
    const { params } = authorizeRequest(s, 'user/*.cruds online_access');
    const page = await s.http
      .post('/auth/authorize')
      .type('form')
      .send({ ...params, username: 'ender', password: PASSWORD });
    expect(page.status).toBe(200);
    expect(page.text).toContain('no role to act in');
    await putAll(s, admin, [role]);
    expectRefused(await refresh(ok.body.refresh_token));
  });

  it('refuses once the directory moves the role to another organisation', async () => {
    const body = await signIn('mover', 'user/*.cruds online_access');
    await registerUsers(s, [user('mover', 'gp')]);
    const moved = await refresh(body.refresh_token);
    expectRefused(moved);
    expect(moved.body.error_description).toMatch(/another organisation/);
  });
});

describe('introspection (RFC 7662)', () => {
  it('reports a current refresh token with its grant, and a spent one as inactive', async () => {
    const body = await signIn('intro', 'user/*.cruds online_access');
    const res = await introspect(body.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      active: true,
      scope: 'user/*.cruds online_access',
      client_id: WEB_CLIENT_ID,
      sub: 'intro',
      iss: `${origin}/auth`,
      fhirUser: 'Practitioner/intro',
      hearth_practitioner_role: roleOf('intro'),
      hearth_organization: 'Organization/trust',
    });
    expect(res.body.exp).toBeGreaterThan(Date.now() / 1000);
    expect(res.body.token_type).toBeUndefined();
    const access = await introspect(body.access_token);
    expect(access.body).toMatchObject({
      active: true,
      token_type: 'Bearer',
      hearth_practitioner_role: roleOf('intro'),
    });
    await refresh(body.refresh_token);
    expect((await introspect(body.refresh_token)).body).toEqual({ active: false });
    expect((await introspect('no-such-token')).body).toEqual({ active: false });
  });
});

describe('the audit trail', () => {
  it('records refreshes as sign-ins: successes with the role, refusals with the reason', async () => {
    const body = await signIn('audited', 'user/*.cruds online_access');
    const search = 'AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&altid=audited&_sort=-date';
    const before = await s.http.get(`/fhir/${search}&_total=accurate`).set('Authorization', `Bearer ${auditor}`);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    const ok = await refresh(body.refresh_token);
    expect(ok.status).toBe(200);
    expectRefused(await refresh(body.refresh_token));
    const after = await s.http.get(`/fhir/${search}&_total=accurate`).set('Authorization', `Bearer ${auditor}`);
    expect(after.body.total).toBe(before.body.total + 2);
    const [failure, success]: AuditEvent[] = after.body.entry.map((e: { resource: AuditEvent }) => e.resource);
    expect(success.outcome).toBe('0');
    expect(success.agent?.find((a) => a.requestor)?.who?.reference).toBe(roleOf('audited'));
    expect(failure.outcome).toBe('4');
    expect(failure.outcomeDesc).toMatch(/used before/);
  });
});

describe('lifetime (HEARTH_REFRESH_ONLINE_HOURS)', () => {
  it('refuses an online refresh token after the sign-in session ends', async () => {
    const short = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_REFRESH_ONLINE_HOURS: '0.0005' });
    try {
      await registerUsers(short, [user('brief')]);
      const body = await signIn(
        'brief',
        'user/*.cruds online_access',
        WEB_CLIENT_ID,
        `${new URL(short.baseUrl).origin}/`,
        short,
      );
      const first = await refresh(body.refresh_token, {}, short);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      // The session's end is fixed at sign-in: rotation does not extend it.
      await new Promise((resolve) => setTimeout(resolve, 2200));
      expect((await introspect(first.body.refresh_token, short)).body).toEqual({ active: false });
      const late = await refresh(first.body.refresh_token, {}, short);
      expectRefused(late);
      expect(late.body.error_description).toMatch(/expired/);
    } finally {
      await short.close();
    }
  }, 60_000);
});
