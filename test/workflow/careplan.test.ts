/**
 * The living care plan (issue 7 part 4; DESIGN.md "Work from the care plan"):
 * one draft/active/on-hold CarePlan per person per team on every write path,
 * `CarePlan/$living`, goals and activities through plain REST, and
 * `CarePlan/{id}/$diff` naming the changes of each version and who made it.
 */
import type { CarePlan, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { caseloadPatient, put, ref, setUpNeighbourhood, type Who } from '../support/neighbourhood.ts';

let s: TestServer;
let tokens: Record<Who, string>;

beforeAll(async () => {
  s = await startTestServer();
  tokens = await setUpNeighbourhood(s);
  await put(s, { resourceType: 'CareTeam', id: 'other-team', status: 'active', name: 'Another team' });
  for (const p of ['unique', 'rest', 'diffed', 'living']) await caseloadPatient(s, p);
}, 60_000);
afterAll(async () => s?.close());

const as = (who: Who) => ({ Authorization: `Bearer ${tokens[who]}` });

const plan = (patient: string, extra: Partial<CarePlan> = {}): CarePlan => ({
  resourceType: 'CarePlan',
  status: 'active',
  intent: 'plan',
  title: `Plan of ${patient}`,
  subject: ref(`Patient/${patient}`),
  careTeam: [ref('CareTeam/team')],
  ...extra,
});

async function create(resource: { resourceType: string }, who?: Who) {
  const req = s.http.post(`/fhir/${resource.resourceType}`).set('Content-Type', FHIR_JSON);
  if (who) req.set(as(who));
  return req.send(resource);
}

async function update(resource: CarePlan, who: Who) {
  return s.http
    .put(`/fhir/CarePlan/${resource.id}`)
    .set(as(who))
    .set('Content-Type', FHIR_JSON)
    .set('If-Match', `W/"${resource.meta!.versionId}"`)
    .send(resource);
}

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);

describe('one living plan per person per team', () => {
  it('refuses a second one by POST, PUT (create and re-activate) and transaction: 422 naming the plan', async () => {
    const first = await create(plan('unique'));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const id = first.body.id as string;

    const second = await create(plan('unique', { status: 'draft', careTeam: undefined, author: ref('CareTeam/team') }));
    expect(second.status).toBe(422);
    expect(second.body.issue[0].code).toBe('business-rule');
    expect(second.body.issue[0].diagnostics).toContain(`CarePlan/${id}`);

    const putCreate = await s.http
      .put('/fhir/CarePlan/unique-2')
      .set('Content-Type', FHIR_JSON)
      .send({ ...plan('unique'), id: 'unique-2' });
    expect(putCreate.status).toBe(422);
    expect(putCreate.body.issue[0].diagnostics).toContain(`CarePlan/${id}`);

    // Another team's plan for the same person is its own; a finished plan is no obstacle.
    const otherTeam = await create(plan('unique', { careTeam: [ref('CareTeam/other-team')] }));
    expect(otherTeam.status).toBe(201);
    const finished = await create(plan('unique', { status: 'completed' }));
    expect(finished.status).toBe(201);
    const reactivated = await s.http
      .put(`/fhir/CarePlan/${finished.body.id}`)
      .set('Content-Type', FHIR_JSON)
      .set('If-Match', 'W/"1"')
      .send({ ...finished.body, status: 'on-hold' });
    expect(reactivated.status).toBe(422);
    expect(reactivated.body.issue[0].diagnostics).toContain(`CarePlan/${id}`);

    // Two new plans in one transaction: the second sees the first; nothing is written.
    const before = await s.http.get('/fhir/CarePlan?subject=Patient/unique&_summary=count');
    const transaction = await s.http
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: plan('unique', { careTeam: [ref('CareTeam/third')] }),
            request: { method: 'POST', url: 'CarePlan' },
          },
          {
            resource: plan('unique', { careTeam: [ref('CareTeam/third')] }),
            request: { method: 'POST', url: 'CarePlan' },
          },
        ],
      });
    expect(transaction.status).toBe(422);
    expect(transaction.body.issue[0].diagnostics).toMatch(/already has a living care plan with CareTeam\/third/);
    const after = await s.http.get('/fhir/CarePlan?subject=Patient/unique&_summary=count');
    expect(after.body.total).toBe(before.body.total);

    // Once the first is completed, a new one may be started.
    const current = (await s.http.get(`/fhir/CarePlan/${id}`)).body as CarePlan;
    expect((await update({ ...current, status: 'completed' }, 'trust')).status).toBe(200);
    expect((await create(plan('unique'))).status).toBe(201);
  });

  it('refuses two created at once: exactly one of concurrent creates succeeds', async () => {
    await caseloadPatient(s, 'race');
    const results = await Promise.all([1, 2, 3].map(() => create(plan('race'))));
    expect(results.map((r) => r.status).sort()).toEqual([201, 422, 422]);
  });
});

describe('CarePlan/$living', () => {
  it('returns the living plan of the person and team with its ETag, 404 when there is none', async () => {
    const created = await create(plan('living'));
    const found = await s.http.get('/fhir/CarePlan/$living?patient=Patient/living&team=CareTeam/team').set(as('gp'));
    expect(found.status).toBe(200);
    expect(found.body.id).toBe(created.body.id);
    expect(found.headers.etag).toBe('W/"1"');
    const none = await s.http.get('/fhir/CarePlan/$living?patient=living&team=other-team');
    expect(none.status).toBe(404);
    expect(none.body.issue[0].diagnostics).toContain('Patient/living has no living care plan with CareTeam/other-team');
    // The outsider may not see the person: answered as absent.
    const hidden = await s.http
      .get('/fhir/CarePlan/$living?patient=Patient/living&team=CareTeam/team')
      .set(as('elsewhere'));
    expect(hidden.status).toBe(404);
    const bad = await s.http.get('/fhir/CarePlan/$living?patient=Patient/living');
    expect(bad.status).toBe(400);
  });
});

describe('goals and activities through plain REST', () => {
  it('links Goals, a Task and a referral to the plan, reads them back and finds the plan by them', async () => {
    const goal = await create(
      {
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        description: { text: 'Walk to the shops' },
        subject: ref('Patient/rest'),
      } as never,
      'trust',
    );
    expect(goal.status, JSON.stringify(goal.body)).toBe(201);
    const task = await create(
      {
        resourceType: 'Task',
        status: 'requested',
        intent: 'order',
        for: ref('Patient/rest'),
        requester: ref('PractitionerRole/trust-role'),
        owner: ref('PractitionerRole/charity-role'),
      } as never,
      'trust',
    );
    expect(task.status, JSON.stringify(task.body)).toBe(201);
    const referral = await create(
      {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        subject: ref('Patient/rest'),
        requester: ref('PractitionerRole/gp-role'),
      } as never,
      'gp',
    );
    expect(referral.status).toBe(201);
    const created = await create(plan('rest'), 'trust');
    const linked = await update(
      {
        ...(created.body as CarePlan),
        goal: [ref(`Goal/${goal.body.id}`)],
        activity: [
          { reference: ref(`Task/${task.body.id}`) },
          { reference: ref(`ServiceRequest/${referral.body.id}`) },
        ],
      },
      'gp',
    );
    expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    const read = (await s.http.get(`/fhir/CarePlan/${created.body.id}`).set(as('charity'))).body as CarePlan;
    expect(read.goal).toEqual([ref(`Goal/${goal.body.id}`)]);
    expect(read.activity?.map((a) => a.reference?.reference)).toEqual([
      `Task/${task.body.id}`,
      `ServiceRequest/${referral.body.id}`,
    ]);
    const byActivity = await s.http
      .get(`/fhir/CarePlan?activity-reference=Task/${task.body.id}&_include=CarePlan:goal`)
      .set(as('charity'));
    expect(byActivity.status).toBe(200);
    expect(byActivity.body.entry.map((e: { resource: { id: string } }) => e.resource.id).sort()).toEqual(
      [created.body.id, goal.body.id].sort(),
    );
    // A stale If-Match is refused (version-aware updates).
    const stale = await update({ ...(created.body as CarePlan), title: 'Stale' }, 'gp');
    expect(stale.status).toBe(412);
  });
});

describe('CarePlan/{id}/$diff', () => {
  let id: string;

  beforeAll(async () => {
    const v1 = await create(plan('diffed', { status: 'draft', goal: [ref('Goal/g1')] }), 'trust');
    expect(v1.status).toBe(201);
    id = v1.body.id;
    const v2 = await update({ ...(v1.body as CarePlan), status: 'active' }, 'gp');
    expect(v2.status).toBe(200);
    const v3 = await update(
      { ...(v2.body as CarePlan), goal: [ref('Goal/g1'), ref('Goal/g2')], description: 'Agreed at MDT' },
      'charity',
    );
    expect(v3.status).toBe(200);
    const v4 = await update({ ...(v3.body as CarePlan), goal: [ref('Goal/g2')] }, 'trust');
    expect(v4.status).toBe(200);
  });

  const ops = (body: Parameters) =>
    (body.parameter ?? [])
      .filter((p) => p.name === 'operation')
      .map((p) => [part(p, 'type')?.valueCode, part(p, 'path')?.valueString, part(p, 'name')?.valueString]);
  const authors = (body: Parameters) =>
    (body.parameter ?? [])
      .filter((p) => p.name === 'version')
      .map((p) => {
        const agent = part(p, 'agent');
        return [
          part(p, 'versionId')?.valueId,
          part(agent, 'who')?.valueReference?.reference,
          part(agent, 'onBehalfOf')?.valueReference?.reference,
        ];
      });

  it('names every change from version 1 to 4 and who made versions 2, 3 and 4', async () => {
    const res = await s.http.get(`/fhir/CarePlan/${id}/$diff?from=1&to=4`).set(as('gp'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.resourceType).toBe('Parameters');
    expect(ops(res.body)).toEqual([
      ['replace', 'CarePlan.status', undefined],
      ['delete', "CarePlan.goal.where(reference='Goal/g1')", undefined],
      ['insert', 'CarePlan.goal', undefined],
      ['add', 'CarePlan', 'description'],
    ]);
    const status = res.body.parameter.find((p: ParametersParameter) => p.name === 'operation');
    expect(part(status, 'previousValue')?.valueCode).toBe('draft');
    expect(part(status, 'value')?.valueCode).toBe('active');
    expect(authors(res.body)).toEqual([
      ['2', 'PractitionerRole/gp-role', 'Organization/gp'],
      ['3', 'PractitionerRole/charity-role', 'Organization/charity'],
      ['4', 'PractitionerRole/trust-role', 'Organization/trust'],
    ]);
  });

  it('compares the previous and the current version by default, and one step when asked', async () => {
    const res = await s.http.get(`/fhir/CarePlan/${id}/$diff`).set(as('charity'));
    expect(res.status).toBe(200);
    expect(res.body.parameter.slice(0, 2)).toEqual([
      { name: 'from', valueId: '3' },
      { name: 'to', valueId: '4' },
    ]);
    expect(ops(res.body)).toEqual([['delete', "CarePlan.goal.where(reference='Goal/g1')", undefined]]);
    expect(authors(res.body)).toEqual([['4', 'PractitionerRole/trust-role', 'Organization/trust']]);
    const step = await s.http
      .post(`/fhir/CarePlan/${id}/$diff`)
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Parameters',
        parameter: [
          { name: 'from', valueId: '2' },
          { name: 'to', valueId: '3' },
        ],
      });
    expect(ops(step.body)).toEqual([
      ['insert', 'CarePlan.goal', undefined],
      ['add', 'CarePlan', 'description'],
    ]);
  });

  it('answers a caller who may not read the plan as if it did not exist, and refuses bad versions', async () => {
    const hidden = await s.http.get(`/fhir/CarePlan/${id}/$diff?from=1&to=2`).set(as('elsewhere'));
    expect(hidden.status).toBe(404);
    const missing = await s.http.get(`/fhir/CarePlan/${id}/$diff?from=1&to=9`);
    expect(missing.status).toBe(404);
    const backwards = await s.http.get(`/fhir/CarePlan/${id}/$diff?from=3&to=2`);
    expect(backwards.status).toBe(400);
    const notANumber = await s.http.get(`/fhir/CarePlan/${id}/$diff?from=x`);
    expect(notANumber.status).toBe(400);
    const unknown = await s.http.get('/fhir/CarePlan/nope/$diff');
    expect(unknown.status).toBe(404);
  });
});
