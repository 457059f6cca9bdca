/**
 * Access tokens and SMART scopes on the FHIR API (HEARTH_AUTH=on): 401 without
 * a valid token (RFC 6750 WWW-Authenticate), 403 for an interaction the scopes
 * do not allow (entry by entry in a transaction, which then fails whole),
 * included resources of unreadable types left out. The client may see every
 * patient, so legitimate-relationship rules play no part here.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { registerSystem, requestSystemToken, systemToken, type SystemClient } from '../support/auth.ts';

let s: TestServer;
let client: SystemClient;

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on' });
  // Registered for every patient: these tests are about scopes; relationships are access-matrix.test.ts's.
  client = await registerSystem(s, { clientId: 'scoped-partner', scope: 'system/*.cruds', allPatients: true });
});
afterAll(async () => s?.close());

const token = (scope: string) => systemToken(s, client, scope);

const json = (body: unknown) => JSON.stringify(body);

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate without a token, or with one that is not valid; metadata stays open', async () => {
    const none = await s.http.get('/fhir/Patient');
    expect(none.status).toBe(401);
    expect(none.body.resourceType).toBe('OperationOutcome');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="hearth"');
    for (const bad of [
      'Bearer not-a-token',
      'Basic dXNlcjpwYXNz',
      `Bearer ${(await token('system/Patient.rs')).slice(0, -3)}xyz`,
    ]) {
      const res = await s.http.get('/fhir/Patient').set('Authorization', bad);
      expect(res.status, bad).toBe(401);
    }
    const invalid = await s.http.get('/fhir/Patient').set('Authorization', 'Bearer not-a-token');
    expect(invalid.headers['www-authenticate']).toContain('error="invalid_token"');
    expect((await s.http.get('/fhir/metadata')).status).toBe(200);
  });
});

describe('scopes', () => {
  it('allows what the scopes name and answers 403 insufficient_scope for the rest', async () => {
    const writer = await token('system/Task.cruds system/Patient.cruds');
    const reader = await token('system/Task.rs');
    const task = await s.http
      .post('/fhir/Task')
      .set('Authorization', `Bearer ${writer}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Task', status: 'requested', intent: 'order' }));
    expect(task.status).toBe(201);
    const as = (t: string) => ({ Authorization: `Bearer ${t}` });
    expect((await s.http.get(`/fhir/Task/${task.body.id}`).set(as(reader))).status).toBe(200);
    expect((await s.http.get('/fhir/Task?status=requested').set(as(reader))).status).toBe(200);
    const denied = await s.http
      .post('/fhir/Task')
      .set(as(reader))
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Task', status: 'requested', intent: 'order' }));
    expect(denied.status).toBe(403);
    expect(denied.body.issue[0].code).toBe('forbidden');
    expect(denied.headers['www-authenticate']).toContain('insufficient_scope');
    expect((await s.http.get('/fhir/Patient').set(as(reader))).status).toBe(403);
    expect((await s.http.delete(`/fhir/Task/${task.body.id}`).set(as(reader))).status).toBe(403);
    expect((await s.http.get('/fhir?_type=Task').set(as(reader))).status).toBe(200);
    expect((await s.http.get('/fhir').set(as(reader))).status).toBe(403);
    expect((await s.http.get('/fhir/_history').set(as(reader))).status).toBe(403);
  });

  it('fails a whole transaction when one entry is not allowed, and answers a batch entry by entry', async () => {
    const t = await token('system/Patient.cruds system/Task.rs');
    const family = `Scoped${randomUUID().slice(0, 8)}`;
    const bundle = (type: 'transaction' | 'batch') => ({
      resourceType: 'Bundle',
      type,
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Task', status: 'requested', intent: 'order' },
          request: { method: 'POST', url: 'Task' },
        },
      ],
    });
    const tx = await s.http
      .post('/fhir')
      .set('Authorization', `Bearer ${t}`)
      .set('Content-Type', FHIR_JSON)
      .send(json(bundle('transaction')));
    expect(tx.status).toBe(403);
    const search = await s.http
      .get(`/fhir/Patient?family=${family}&_total=accurate`)
      .set('Authorization', `Bearer ${t}`);
    expect(search.body.total).toBe(0);
    const batch = await s.http
      .post('/fhir')
      .set('Authorization', `Bearer ${t}`)
      .set('Content-Type', FHIR_JSON)
      .send(json(bundle('batch')));
    expect(batch.status).toBe(200);
    expect(batch.body.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3))).toEqual([
      '201',
      '403',
    ]);
  });

  it('lets u create by update (SMART v2: update-as-create "is allowed by the update scope")', async () => {
    const admin = await token('system/*.cruds');
    const updater = await token('system/Task.rus');
    const as = (t: string) => ({ Authorization: `Bearer ${t}` });
    const id = `uac-${randomUUID()}`;
    const put = await s.http
      .put(`/fhir/Task/${id}`)
      .set(as(updater))
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Task', id, status: 'requested', intent: 'order' }));
    expect(put.status).toBe(201);
    expect((await s.http.get(`/fhir/Task/${id}`).set(as(admin))).body.meta.versionId).toBe('1');
  });

  it('leaves out included resources of a type the token may not read', async () => {
    const writer = await token('system/*.cruds');
    const patient = await s.http
      .post('/fhir/Patient')
      .set('Authorization', `Bearer ${writer}`)
      .set('Content-Type', FHIR_JSON)
      .send(json({ resourceType: 'Patient', name: [{ family: 'Included' }] }));
    const task = await s.http
      .post('/fhir/Task')
      .set('Authorization', `Bearer ${writer}`)
      .set('Content-Type', FHIR_JSON)
      .send(
        json({
          resourceType: 'Task',
          status: 'requested',
          intent: 'order',
          for: { reference: `Patient/${patient.body.id}` },
        }),
      );
    const query = `/fhir/Task?_id=${task.body.id}&_include=Task:patient`;
    const all = await s.http.get(query).set('Authorization', `Bearer ${writer}`);
    expect(all.body.entry.map((e: { search: { mode: string } }) => e.search.mode)).toEqual(['match', 'include']);
    const tasksOnly = await s.http.get(query).set('Authorization', `Bearer ${await token('system/Task.rs')}`);
    expect(tasksOnly.body.entry.map((e: { search: { mode: string } }) => e.search.mode)).toEqual(['match']);
  });
});

describe('restricted scopes (SMART v2 granular)', () => {
  it('user/Task.rs?owner=… style: search returns only matching Tasks, reads of others are "not known", writes are refused', async () => {
    const writer = await token('system/*.cruds');
    const ids: Record<string, string> = {};
    for (const owner of ['scope-x', 'scope-y']) {
      const res = await s.http
        .post('/fhir/Task')
        .set('Authorization', `Bearer ${writer}`)
        .set('Content-Type', FHIR_JSON)
        .send(
          json({
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            owner: { reference: `Organization/${owner}` },
          }),
        );
      expect(res.status).toBe(201);
      ids[owner] = res.body.id;
    }
    const restricted = await token('system/Task.rs?owner=Organization/scope-x');
    const auth = (req: import('supertest').Test) => req.set('Authorization', `Bearer ${restricted}`);
    const search = await auth(s.http.get('/fhir/Task?status=requested&_total=accurate'));
    expect(search.status).toBe(200);
    expect(search.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([ids['scope-x']]);
    expect(search.body.total).toBe(1);
    expect((await auth(s.http.get(`/fhir/Task/${ids['scope-x']}`))).status).toBe(200);
    expect((await auth(s.http.get(`/fhir/Task/${ids['scope-y']}`))).status).toBe(404);
    const write = await auth(s.http.post('/fhir/Task').set('Content-Type', FHIR_JSON)).send(
      json({
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        owner: { reference: 'Organization/scope-x' },
      }),
    );
    expect(write.status).toBe(403);
    expect((await auth(s.http.get('/fhir/Patient'))).status).toBe(403);
  });

  it('user/Task.cud?owner=… style: writes must start from and leave a match, in every write path; nothing else is written', async () => {
    const restricted = await token('system/Task.crud?owner=Organization/scope-w');
    const as = { Authorization: `Bearer ${restricted}` };
    const task = (owner: string, extra: object = {}) => ({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      owner: { reference: `Organization/${owner}` },
      ...extra,
    });
    const post = (body: object) => s.http.post('/fhir/Task').set(as).set('Content-Type', FHIR_JSON).send(json(body));
    const put = (id: string, body: object) =>
      s.http
        .put(`/fhir/Task/${id}`)
        .set(as)
        .set('Content-Type', FHIR_JSON)
        .send(json({ ...body, id }));

    const mine = await post(task('scope-w'));
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    const elsewhere = await post(task('scope-v', { description: 'not ours' }));
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers['www-authenticate']).toContain('insufficient_scope');
    expect(elsewhere.body.issue[0].diagnostics).toContain('owner=Organization/scope-w');

    // Update keeping the match: allowed; moving the Task away: refused and unchanged.
    expect((await put(mine.body.id, task('scope-w', { status: 'accepted' }))).status).toBe(200);
    expect((await put(mine.body.id, task('scope-v', { status: 'accepted' }))).status).toBe(403);
    const patched = await s.http
      .patch(`/fhir/Task/${mine.body.id}`)
      .set(as)
      .set('Content-Type', 'application/json-patch+json')
      .send(json([{ op: 'replace', path: '/owner/reference', value: 'Organization/scope-v' }]));
    expect(patched.status).toBe(403);
    const current = await s.http.get(`/fhir/Task/${mine.body.id}`).set(as);
    expect(current.body.owner.reference).toBe('Organization/scope-w');
    expect(current.body.meta.versionId).toBe('2');

    // Someone else's Task: neither taken over nor deleted (and not even known).
    const admin = await token('system/*.cruds');
    const theirs = await s.http
      .post('/fhir/Task')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', FHIR_JSON)
      .send(json(task('scope-v')));
    expect([403, 404]).toContain((await put(theirs.body.id, task('scope-w'))).status);
    expect([403, 404]).toContain((await s.http.delete(`/fhir/Task/${theirs.body.id}`).set(as)).status);
    // A conditional create matching it says which resource matched, not what it holds.
    const matched = await s.http
      .post('/fhir/Task')
      .set(as)
      .set('Content-Type', FHIR_JSON)
      .set('If-None-Exist', `_id=${theirs.body.id}`)
      .send(json(task('scope-w')));
    expect(matched.status).toBe(200);
    expect(matched.text).toBe('');
    // A JSON Patch `test` tells nothing either: refused alike whether it would pass or fail.
    for (const value of ['requested', 'completed']) {
      const probe = await s.http
        .patch(`/fhir/Task/${theirs.body.id}`)
        .set(as)
        .set('Content-Type', 'application/json-patch+json')
        .send(json([{ op: 'test', path: '/status', value }]));
      expect(probe.status, value).toBe(403);
    }
    const still = await s.http.get(`/fhir/Task/${theirs.body.id}`).set('Authorization', `Bearer ${admin}`);
    expect(still.body.owner.reference).toBe('Organization/scope-v');
    expect(still.body.meta.versionId).toBe('1');

    // A transaction with one entry outside the scope fails whole.
    const family = `Restricted${Date.now()}`;
    const bundle = await s.http
      .post('/fhir')
      .set(as)
      .set('Content-Type', FHIR_JSON)
      .send(
        json({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            {
              resource: task('scope-w', { identifier: [{ system: 'urn:test', value: family }] }),
              request: { method: 'POST', url: 'Task' },
            },
            {
              resource: task('scope-v', { identifier: [{ system: 'urn:test', value: family }] }),
              request: { method: 'POST', url: 'Task' },
            },
          ],
        }),
      );
    expect(bundle.status).toBe(403);
    const left = await s.http.get(`/fhir/Task?identifier=urn:test|${family}`).set('Authorization', `Bearer ${admin}`);
    expect(left.body.entry ?? [], JSON.stringify(left.body).slice(0, 1500)).toHaveLength(0);

    // Delete of a matching Task: allowed.
    expect((await s.http.delete(`/fhir/Task/${mine.body.id}`).set(as)).status).toBe(200);
    expect((await s.http.get(`/fhir/Task/${mine.body.id}`).set('Authorization', `Bearer ${admin}`)).status).toBe(410);
  });
});

describe('the directory (Organization, Practitioner, PractitionerRole, and teams: CareTeams without a subject)', () => {
  it('is written only with a scope naming the type: `*` neither reaches nor grants its writes; reads stay as they are', async () => {
    const types = ['Organization', 'Practitioner', 'PractitionerRole', 'CareTeam'];
    const named = types.map((type) => `system/${type}.cruds`).join(' ');
    const keeper = await registerSystem(s, { clientId: 'directory', scope: named, allPatients: true });
    const directory = await systemToken(s, keeper, named);
    const everything = await token('system/*.cruds');
    const as = (t: string) => ({ Authorization: `Bearer ${t}` });
    const send = (req: import('supertest').Test, body: unknown) => req.set('Content-Type', FHIR_JSON).send(json(body));
    const refused = (res: import('supertest').Response, what: string) => {
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.resourceType, what).toBe('OperationOutcome');
      expect(res.headers['www-authenticate'], what).toContain('insufficient_scope');
    };
    const examples: Record<string, object> = {
      Organization: { name: 'Directory test' },
      Practitioner: { name: [{ family: 'Directory' }] },
      PractitionerRole: { active: true, organization: { reference: 'Organization/directory-x' } },
      CareTeam: { status: 'active', participant: [{ member: { reference: 'Practitioner/directory-x' } }] },
    };
    for (const type of types) {
      const body = { resourceType: type, ...examples[type] };
      const created = await send(s.http.post(`/fhir/${type}`).set(as(directory)), body);
      expect(created.status, type).toBe(201);
      const id = created.body.id as string;
      refused(await send(s.http.post(`/fhir/${type}`).set(as(everything)), body), `create ${type}`);
      refused(await send(s.http.put(`/fhir/${type}/${id}`).set(as(everything)), { ...body, id }), `update ${type}`);
      const patch = s.http
        .patch(`/fhir/${type}/${id}`)
        .set(as(everything))
        .set('Content-Type', 'application/json-patch+json')
        .send(json([{ op: 'add', path: '/language', value: 'en' }]));
      refused(await patch, `patch ${type}`);
      refused(await s.http.delete(`/fhir/${type}/${id}`).set(as(everything)), `delete ${type}`);
      const transaction = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: body, request: { method: 'POST', url: type } }],
      };
      refused(await send(s.http.post('/fhir').set(as(everything)), transaction), `transaction ${type}`);
      // Nothing was written, and reading and searching are as before.
      const read = await s.http.get(`/fhir/${type}/${id}`).set(as(everything));
      expect(read.status, type).toBe(200);
      expect(read.body.meta.versionId, type).toBe('1');
      expect((await s.http.get(`/fhir/${type}?_id=${id}`).set(as(everything))).body.entry, type).toHaveLength(1);
    }
    // A person's care team is not the directory: `*` writes it (this client sees every patient).
    const careTeam = await send(s.http.post('/fhir/CareTeam').set(as(everything)), {
      resourceType: 'CareTeam',
      status: 'active',
      subject: {
        reference: `Patient/${(await send(s.http.post('/fhir/Patient').set(as(everything)), { resourceType: 'Patient' })).body.id}`,
      },
      participant: [{ member: { reference: 'Practitioner/directory-x' } }],
    });
    expect(careTeam.status, JSON.stringify(careTeam.body)).toBe(201);
    // A ceiling of `*` does not grant the named scope either (the client asking has system/*.cruds).
    const asked = await requestSystemToken(s, client, 'system/PractitionerRole.cruds system/CareTeam.rs');
    expect(asked.status).toBe(200);
    expect(asked.body.scope).toBe('system/CareTeam.rs');
  });
});

describe('hardening', () => {
  it('sends security headers on every response, errors included', async () => {
    for (const res of [await s.http.get('/fhir/metadata'), await s.http.get('/fhir/Patient'), await s.http.get('/')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('refuses JSON nested deeper than 128 levels with a 400 OperationOutcome, before anything else', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200; i++) deep = { a: deep };
    const res = await s.http
      .post('/fhir/Basic')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Basic', code: { text: 'deep' }, extension: [deep] }));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('deeper than 128');
  });

  it('never answers with a stack trace', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send('{"resourceType": "Patient",');
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toMatch(/at .+\.ts:\d+/);
  });
});
