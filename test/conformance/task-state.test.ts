/**
 * The Task state machine on every write path (issue 7 item 2; STANDARDS.md
 * §3 testable requirements): an illegal transition or a missing reason by
 * PUT, PATCH or a transaction entry is a 422 business-rule OperationOutcome
 * and the Task is unchanged (same version); a move that belongs to the other
 * party is a 403; the ServiceRequest's status is its requester's.
 */
import type { Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { registerSystem, systemToken } from '../support/auth.ts';

let s: TestServer;
let gp: string;
let community: string;

beforeAll(async () => {
  s = await startTestServer();
  // Two organisations' systems (every patient, so relationships play no part): the referrer and the team.
  const client = async (id: string, organization: string) =>
    systemToken(
      s,
      await registerSystem(s, { clientId: id, scope: 'system/*.cruds', allPatients: true, organization }),
      'system/*.cruds',
    );
  gp = await client('gp-system', 'Organization/gp');
  community = await client('community-system', 'Organization/community');
});
afterAll(async () => s?.close());

const as = (token: string) => ({ Authorization: `Bearer ${token}` });

async function newTask(extra: Partial<Task> = {}): Promise<Task> {
  const res = await s.http
    .post('/fhir/Task')
    .set(as(gp))
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      requester: { reference: 'Organization/gp' },
      owner: { reference: 'Organization/community' },
      ...extra,
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Task;
}

const put = (token: string, t: Task) =>
  s.http.put(`/fhir/Task/${t.id}`).set(as(token)).set('Content-Type', FHIR_JSON).send(t);

async function unchanged(t: Task): Promise<void> {
  const now = await s.http.get(`/fhir/Task/${t.id}`);
  expect(now.body.meta.versionId).toBe(t.meta!.versionId);
  expect(now.body.status).toBe(t.status);
}

describe('illegal transitions (STANDARDS §3.2)', () => {
  it('refuses completed -> in-progress by PUT, PATCH and in a transaction: 422 business-rule, nothing written', async () => {
    const t = await newTask({ status: 'completed' });
    const byPut = await put(community, { ...t, status: 'in-progress' });
    expect(byPut.status).toBe(422);
    expect(byPut.body.issue[0].code).toBe('business-rule');
    expect(byPut.body.issue[0].diagnostics).toMatch(/cannot go from completed to in-progress/);
    const byPatch = await s.http
      .patch(`/fhir/Task/${t.id}`)
      .set(as(community))
      .set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/status', value: 'in-progress' }]);
    expect(byPatch.status).toBe(422);
    const other = await newTask();
    const byTransaction = await s.http
      .post('/fhir')
      .set(as(community))
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { ...other, status: 'accepted' }, request: { method: 'PUT', url: `Task/${other.id}` } },
          { resource: { ...t, status: 'in-progress' }, request: { method: 'PUT', url: `Task/${t.id}` } },
        ],
      });
    expect(byTransaction.status).toBe(422);
    await unchanged(t);
    await unchanged(other);
  });

  it('refuses a move to rejected without statusReason.text, and takes it with one', async () => {
    const t = await newTask();
    const bare = await put(community, { ...t, status: 'rejected' });
    expect(bare.status).toBe(422);
    expect(bare.body.issue[0].expression).toEqual(['Task.statusReason']);
    await unchanged(t);
    const why = await put(community, { ...t, status: 'rejected', statusReason: { text: 'Not our service' } });
    expect(why.status).toBe(200);
    expect(why.body.meta.versionId).toBe('2');
  });
});

describe('completion needs an outcome (issue 7: closing the loop)', () => {
  it('refuses a move to completed with neither output nor statusReason.text: 422, nothing written', async () => {
    const t = await newTask({ status: 'accepted' });
    const bare = await put(community, { ...t, status: 'completed' });
    expect(bare.status).toBe(422);
    expect(bare.body.issue[0].code).toBe('business-rule');
    expect(bare.body.issue[0].expression).toEqual(['Task.output']);
    await unchanged(t);
    const byPatch = await s.http
      .patch(`/fhir/Task/${t.id}`)
      .set(as(community))
      .set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/status', value: 'completed' }]);
    expect(byPatch.status).toBe(422);
    await unchanged(t);
    const withReason = await put(community, {
      ...t,
      status: 'completed',
      statusReason: { text: 'Seen and discharged' },
    });
    expect(withReason.status).toBe(200);
  });
});

describe('the parties (Gravity "who sets what")', () => {
  it('lets the owner accept and complete, and refuses the requester doing so (403)', async () => {
    const t = await newTask();
    const byRequester = await put(gp, { ...t, status: 'accepted' });
    expect(byRequester.status).toBe(403);
    expect(byRequester.body.issue[0].diagnostics).toMatch(/Only the owner/);
    await unchanged(t);
    const accepted = await put(community, { ...t, status: 'accepted' });
    expect(accepted.status).toBe(200);
    const completedByRequester = await put(gp, {
      ...(accepted.body as Task),
      status: 'completed',
      output: [{ type: { text: 'Outcome' }, valueString: 'Done' }],
    });
    expect(completedByRequester.status).toBe(403);
    const outcome = { output: [{ type: { text: 'Outcome' }, valueString: 'Seen at home' }] };
    expect((await put(community, { ...(accepted.body as Task), status: 'completed', ...outcome })).status).toBe(200);
  });

  it("refuses the owner marking the requester's Task entered-in-error; either may cancel", async () => {
    const t = await newTask();
    expect((await put(community, { ...t, status: 'entered-in-error' })).status).toBe(403);
    expect((await put(gp, { ...t, status: 'cancelled', statusReason: { text: 'Patient moved away' } })).status).toBe(
      200,
    );
  });

  it("keeps a ServiceRequest's status with its requester", async () => {
    const sr = await s.http
      .post('/fhir/ServiceRequest')
      .set(as(gp))
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/sr-patient' },
        requester: { reference: 'Organization/gp' },
        performer: [{ reference: 'Organization/community' }],
      });
    expect(sr.status, JSON.stringify(sr.body)).toBe(201);
    const byPerformer = await s.http
      .put(`/fhir/ServiceRequest/${sr.body.id}`)
      .set(as(community))
      .set('Content-Type', FHIR_JSON)
      .send({ ...sr.body, status: 'completed' });
    expect(byPerformer.status).toBe(403);
    const byRequester = await s.http
      .put(`/fhir/ServiceRequest/${sr.body.id}`)
      .set(as(gp))
      .set('Content-Type', FHIR_JSON)
      .send({ ...sr.body, status: 'completed' });
    expect(byRequester.status).toBe(200);
  });
});
