/**
 * CareTeam/{id}/$caseload (issue 7 "Build the caseload"): the team's people on
 * active EpisodeOfCare with coordinator, latest risk, open tasks, next due task,
 * last contact and active care plan; filters, sorts, paging; only people the
 * caller may see.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from '../support/auth.ts';

let s: TestServer;
let admin: string;
const tokens: Record<string, string> = {};
const ref = (reference: string) => ({ reference });
const hoursFromNow = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

beforeAll(async () => {
  s = await startTestServer();
  const client = await registerSystem(s, {
    clientId: 'admin',
    scope: ADMIN_SCOPE,
    allPatients: true,
    sensitiveData: true,
  });
  admin = await systemToken(s, client, ADMIN_SCOPE);
  const patient = (id: string, family: string, given: string) => ({
    resourceType: 'Patient',
    id,
    name: [{ family, given: [given] }],
    birthDate: '1940-01-01',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }],
  });
  const episode = (id: string, patientId: string, team: string, status = 'active', manager = 'Practitioner/nurse') => ({
    resourceType: 'EpisodeOfCare',
    id,
    status,
    patient: ref(`Patient/${patientId}`),
    managingOrganization: ref('Organization/trust'),
    careManager: ref(manager),
    team: [ref(`CareTeam/${team}`)],
  });
  const task = (id: string, patientId: string, status: string, due?: string, description = id) => ({
    resourceType: 'Task',
    id,
    status,
    intent: 'order',
    description,
    for: ref(`Patient/${patientId}`),
    requester: ref('PractitionerRole/nurse-role'),
    owner: ref('PractitionerRole/nurse-role'),
    ...(status === 'completed' ? { output: [{ type: { text: 'outcome' }, valueString: 'done' }] } : {}),
    ...(due ? { restriction: { period: { end: due } } } : {}),
  });
  const risk = (id: string, patientId: string, date: string, code: string, probability: number) => ({
    resourceType: 'RiskAssessment',
    id,
    status: 'final',
    subject: ref(`Patient/${patientId}`),
    occurrenceDateTime: date,
    prediction: [
      {
        qualitativeRisk: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code }] },
        probabilityDecimal: probability,
      },
    ],
  });
  await putAll(s, admin, [
    { resourceType: 'Organization', id: 'trust', name: 'Community trust' },
    { resourceType: 'Organization', id: 'elsewhere', name: 'Another trust' },
    { resourceType: 'Practitioner', id: 'nurse', name: [{ family: 'Okafor', given: ['Sam'] }] },
    { resourceType: 'Practitioner', id: 'nurse2', name: [{ family: 'Lee', given: ['Kim'] }] },
    { resourceType: 'Practitioner', id: 'outsider', name: [{ family: 'Out', given: ['Sider'] }] },
    {
      resourceType: 'PractitionerRole',
      id: 'nurse-role',
      practitioner: ref('Practitioner/nurse'),
      organization: ref('Organization/trust'),
    },
    {
      resourceType: 'PractitionerRole',
      id: 'outsider-role',
      practitioner: ref('Practitioner/outsider'),
      organization: ref('Organization/elsewhere'),
    },
    {
      resourceType: 'CareTeam',
      id: 'team',
      status: 'active',
      name: 'Neighbourhood team',
      participant: [{ member: ref('PractitionerRole/nurse-role') }],
    },
    { resourceType: 'CareTeam', id: 'other-team', status: 'active', name: 'Other team' },
    patient('p1', 'Hughes', 'Margaret'),
    patient('p2', 'Begum', 'Rashida'),
    patient('p3', 'Adams', 'Finished'),
    patient('p4', 'Zed', 'Elsewhere'),
    episode('e1', 'p1', 'team'),
    episode('e2', 'p2', 'team', 'active', 'Practitioner/nurse2'),
    episode('e3', 'p3', 'team', 'finished'),
    episode('e4', 'p4', 'other-team'),
    task('t1-overdue', 'p1', 'in-progress', hoursFromNow(-5), 'Review medication'),
    task('t1-later', 'p1', 'requested', hoursFromNow(48)),
    task('t1-done', 'p1', 'completed', hoursFromNow(-100)),
    task('t2-later', 'p2', 'accepted', hoursFromNow(24), 'Home visit'),
    task('t4', 'p4', 'requested', hoursFromNow(-1)),
    risk('r1-old', 'p1', '2026-01-01', 'high', 0.9),
    risk('r1-new', 'p1', '2026-06-01', 'low', 0.1),
    risk('r2', 'p2', '2026-05-01', 'high', 0.8),
    {
      resourceType: 'Communication',
      id: 'c1',
      status: 'completed',
      subject: ref('Patient/p1'),
      sent: '2026-11-01T10:00:00Z',
    },
    {
      resourceType: 'CarePlan',
      id: 'plan1',
      status: 'active',
      intent: 'plan',
      title: 'Margaret’s plan',
      subject: ref('Patient/p1'),
      careTeam: [ref('CareTeam/team')],
    },
  ]);
  const password = 'correct horse battery staple';
  await registerUsers(s, [
    {
      username: 'nurse',
      name: 'Sam Okafor',
      password,
      practitioner: 'Practitioner/nurse',
      roles: [{ practitionerRole: 'PractitionerRole/nurse-role', organization: 'Organization/trust' }],
    },
    {
      username: 'outsider',
      name: 'Sider Out',
      password,
      practitioner: 'Practitioner/outsider',
      roles: [{ practitionerRole: 'PractitionerRole/outsider-role', organization: 'Organization/elsewhere' }],
    },
  ]);
  tokens.nurse = await userToken(s, 'nurse', password);
  tokens.outsider = await userToken(s, 'outsider', password);
});
afterAll(async () => s?.close());

async function caseload(token: string, query = '', team = 'team') {
  return s.http.get(`/fhir/CareTeam/${team}/$caseload${query}`).set('Authorization', `Bearer ${token}`);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parts are read by name; the assertions check their shape
function people(body: Parameters): Record<string, any>[] {
  return (body.parameter ?? [])
    .filter((p) => p.name === 'person')
    .map((p) => Object.fromEntries((p.part ?? []).map((part) => [part.name, part])));
}

describe('$caseload', () => {
  it("lists the team's people on active episodes with coordinator, risk, tasks, contact and plan", async () => {
    const res = await caseload(tokens.nurse);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.resourceType).toBe('Parameters');
    expect(res.body.parameter.find((p: ParametersParameter) => p.name === 'total').valueInteger).toBe(2);
    const [begum, hughes] = people(res.body); // default sort: family name
    expect(begum.patient.valueReference).toEqual({ reference: 'Patient/p2', display: 'Rashida Begum' });
    expect(begum.careCoordinator.valueReference).toEqual({ reference: 'Practitioner/nurse2', display: 'Kim Lee' });
    expect(begum.risk.valueCodeableConcept.coding[0].code).toBe('high');
    expect(begum.openTasks.valueInteger).toBe(1);
    expect(begum.nextTask.valueReference).toEqual({ reference: 'Task/t2-later', display: 'Home visit' });
    expect(begum.overdue.valueBoolean).toBe(false);
    expect(begum.lastContact).toBeUndefined();
    expect(begum.carePlan).toBeUndefined();

    expect(hughes.patient.valueReference.reference).toBe('Patient/p1');
    expect(hughes.episodeOfCare.valueReference.reference).toBe('EpisodeOfCare/e1');
    expect(hughes.nhsNumber.valueIdentifier.value).toBe('9000000009');
    // The latest assessment counts, not the highest.
    expect(hughes.risk.valueCodeableConcept.coding[0].code).toBe('low');
    expect(hughes.riskScore.valueDecimal).toBe(0.1);
    expect(hughes.riskAssessment.valueReference.reference).toBe('RiskAssessment/r1-new');
    expect(hughes.openTasks.valueInteger).toBe(2); // the completed one does not count
    expect(hughes.nextTask.valueReference).toEqual({ reference: 'Task/t1-overdue', display: 'Review medication' });
    expect(hughes.overdue.valueBoolean).toBe(true);
    expect(hughes.lastContact.valueDateTime).toBe('2026-11-01T10:00:00.000Z');
    expect(hughes.carePlan.valueReference).toEqual({ reference: 'CarePlan/plan1', display: 'Margaret’s plan' });
  });

  it('filters by coordinator, risk and overdue', async () => {
    const ids = async (q: string) =>
      people((await caseload(tokens.nurse, q)).body).map((p) => p.patient.valueReference.reference);
    expect(await ids('?coordinator=Practitioner/nurse')).toEqual(['Patient/p1']);
    expect(await ids('?risk=high')).toEqual(['Patient/p2']);
    expect(await ids('?risk=low,high')).toEqual(['Patient/p2', 'Patient/p1']);
    expect(await ids('?overdue=true')).toEqual(['Patient/p1']);
    expect(await ids('?overdue=false')).toEqual(['Patient/p2']);
  });

  it('sorts by risk, next due, open tasks (descending with -) and pages with _count and _offset', async () => {
    const ids = async (q: string) =>
      people((await caseload(tokens.nurse, q)).body).map((p) => p.patient.valueReference.reference);
    expect(await ids('?_sort=-risk')).toEqual(['Patient/p2', 'Patient/p1']);
    expect(await ids('?_sort=next-due')).toEqual(['Patient/p1', 'Patient/p2']);
    expect(await ids('?_sort=-open-tasks')).toEqual(['Patient/p1', 'Patient/p2']);
    const first = await caseload(tokens.nurse, '?_count=1');
    expect(people(first.body).map((p) => p.patient.valueReference.reference)).toEqual(['Patient/p2']);
    const next = first.body.parameter.find((p: ParametersParameter) => p.name === 'next').valueUri as string;
    expect(next).toContain('_offset=1');
    const second = await s.http
      .get(new URL(next).pathname + new URL(next).search)
      .set('Authorization', `Bearer ${tokens.nurse}`);
    expect(people(second.body).map((p) => p.patient.valueReference.reference)).toEqual(['Patient/p1']);
    expect(second.body.parameter.find((p: ParametersParameter) => p.name === 'next')).toBeUndefined();
  });

  it('is live: each write that changes a person’s row changes it in the same transaction (summary table)', async () => {
    const hughes = async () =>
      people((await caseload(tokens.nurse, '?coordinator=Practitioner/nurse')).body).find(
        (p) => p.patient.valueReference.reference === 'Patient/p1',
      );
    expect((await hughes())!.openTasks.valueInteger).toBe(2);
    const done = await s.http.get('/fhir/Task/t1-later').set('Authorization', `Bearer ${admin}`);
    const put = await s.http
      .put('/fhir/Task/t1-later')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', 'application/fhir+json')
      .send({ ...done.body, status: 'cancelled', statusReason: { text: 'No longer needed' } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await hughes())!.openTasks.valueInteger).toBe(1);
    // A sealed task is neither counted nor shown (the summary shows nobody what they may not see).
    await putAll(s, admin, [
      {
        resourceType: 'Task',
        id: 't1-sealed',
        status: 'requested',
        intent: 'order',
        meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] },
        for: ref('Patient/p1'),
        restriction: { period: { end: hoursFromNow(-50) } },
      },
    ]);
    expect((await hughes())!.openTasks.valueInteger).toBe(1);
    expect((await hughes())!.nextTask.valueReference.reference).toBe('Task/t1-overdue');
    // The episode ends: the person leaves the caseload; deleted, the same.
    const episode = await s.http.get('/fhir/EpisodeOfCare/e1').set('Authorization', `Bearer ${admin}`);
    await putAll(s, admin, [{ ...episode.body, status: 'finished' }]);
    expect(await hughes()).toBeUndefined();
    await putAll(s, admin, [{ ...episode.body, status: 'active' }]);
    expect((await hughes())!.openTasks.valueInteger).toBe(1);
    const removed = await s.http.delete('/fhir/Task/t1-overdue').set('Authorization', `Bearer ${admin}`);
    expect(removed.status).toBe(200);
    expect((await hughes())!.openTasks.valueInteger).toBe(0);
  });

  it('stays right under concurrent writes about one person (each refresh waits for the other)', async () => {
    const before = people((await caseload(tokens.nurse, '?coordinator=Practitioner/nurse2')).body)[0];
    const open = before.openTasks.valueInteger as number;
    const writes = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        s.http
          .post('/fhir/Task')
          .set('Authorization', `Bearer ${admin}`)
          .set('Content-Type', 'application/fhir+json')
          .send({
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            for: ref('Patient/p2'),
            description: `c${k}`,
          }),
      ),
    );
    expect(writes.map((w) => w.status)).toEqual(Array(8).fill(201));
    const after = people((await caseload(tokens.nurse, '?coordinator=Practitioner/nurse2')).body)[0];
    expect(after.openTasks.valueInteger).toBe(open + 8);
  });

  it('lists only people the caller may see: an outsider sees the team but none of its people', async () => {
    const res = await caseload(tokens.outsider);
    expect(res.status).toBe(200);
    expect(res.body.parameter).toEqual([{ name: 'total', valueInteger: 0 }]);
  });

  it('refuses bad parameters with an OperationOutcome and an unknown team with 404', async () => {
    for (const q of ['?_sort=shoe-size', '?overdue=maybe', '?coordinator=Patient/p1', '?_count=0', '?colour=blue']) {
      const res = await caseload(tokens.nurse, q);
      expect(res.status, q).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await caseload(tokens.nurse, '', 'no-such-team')).status).toBe(404);
    const post = await s.http.put('/fhir/CareTeam/team/$caseload').set('Authorization', `Bearer ${tokens.nurse}`);
    expect(post.status).toBe(405);
  });

  it('is declared in the CapabilityStatement and as an OperationDefinition', async () => {
    const meta = await s.http.get('/fhir/metadata');
    const careTeam = meta.body.rest[0].resource.find((r: { type: string }) => r.type === 'CareTeam');
    const op = careTeam.operation.find((o: { name: string }) => o.name === 'caseload');
    expect(op.definition).toBe('https://hearth.example/fhir/OperationDefinition/CareTeam-caseload');
    const def = await s.http.get('/fhir/OperationDefinition/CareTeam-caseload').set('Authorization', `Bearer ${admin}`);
    expect(def.status).toBe(200);
    expect(def.body).toMatchObject({ code: 'caseload', instance: true, type: false, affectsState: false });
  });
});
