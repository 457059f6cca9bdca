/**
 * Rate limits (per client on the API, per address and username on sign-in)
 * and strict CORS (only the configured web client origins).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { authorizeRequest, registerSystem, registerUsers, systemToken } from '../support/auth.ts';

let s: TestServer;
const WEB = 'https://neighbourhood.example.nhs.uk';

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '5', HEARTH_CORS_ORIGINS: WEB });
  await registerUsers(s, [
    {
      username: 'guessed',
      name: 'Guessed',
      password: 'the real password',
      practitioner: 'Practitioner/p',
      roles: [{ practitionerRole: 'PractitionerRole/r', organization: 'Organization/o' }],
    },
  ]);
});
afterAll(async () => s?.close());

describe('rate limits', () => {
  it('answers 429 with an OperationOutcome and Retry-After once a client passes its limit; other clients go on', async () => {
    const a = await systemToken(s, await registerSystem(s, { clientId: 'busy', scope: 'system/*.rs' }), 'system/*.rs');
    const b = await systemToken(s, await registerSystem(s, { clientId: 'calm', scope: 'system/*.rs' }), 'system/*.rs');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await s.http.get('/fhir/Organization').set('Authorization', `Bearer ${a}`)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await s.http.get('/fhir/Organization').set('Authorization', `Bearer ${a}`);
    expect(limited.status).toBe(429);
    expect(limited.body.resourceType).toBe('OperationOutcome');
    expect(limited.body.issue[0].code).toBe('throttled');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await s.http.get('/fhir/Organization').set('Authorization', `Bearer ${b}`)).status).toBe(200);
  });

  it('limits sign-in attempts per address and username to 10 a minute', async () => {
    const { params } = authorizeRequest(s);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await s.http
        .post('/auth/authorize')
        .type('form')
        .send({ ...params, username: 'guessed', password: `guess ${i}` });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((st) => st === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
    // The right password does not get through either until the minute is over.
    const right = await s.http
      .post('/auth/authorize')
      .type('form')
      .send({ ...params, username: 'guessed', password: 'the real password' });
    expect(right.status).toBe(429);
  });
});

describe('CORS', () => {
  it('allows the configured web client origin (preflight and request) and no other', async () => {
    const preflight = await s.http
      .options('/fhir/Patient')
      .set('Origin', WEB)
      .set('Access-Control-Request-Method', 'PUT')
      .set('Access-Control-Request-Headers', 'authorization, if-match, content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(WEB);
    expect(preflight.headers['access-control-allow-methods']).toContain('PUT');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/authorization/i);
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    const metadata = await s.http.get('/fhir/metadata').set('Origin', WEB);
    expect(metadata.headers['access-control-allow-origin']).toBe(WEB);
    expect(metadata.headers['access-control-expose-headers']).toMatch(/ETag/);
    const other = await s.http
      .options('/fhir/Patient')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const otherGet = await s.http.get('/fhir/metadata').set('Origin', 'https://evil.example.com');
    expect(otherGet.headers['access-control-allow-origin']).toBeUndefined();
  });
});
