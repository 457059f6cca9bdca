/**
 * Standardised intake (issue 7; STANDARDS.md §3.3 "creation of Task on
 * placer's system"; R4 operations.html): `ServiceRequest/$submit-referral`
 * reports every missing or invalid item at once (422, nothing written),
 * writes the referral and its fulfilment Tasks in one transaction (a failure
 * writes nothing), warns of or refuses (409) a duplicate open referral, and
 * refuses a caller without a relationship with the patient. A plain
 * transaction Bundle of the same two resources keeps working.
 */
import type { OperationOutcome, Parameters, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from '../support/auth.ts';

let s: TestServer;
let admin: string;
let gp: string;
let volunteer: string;
const PASSWORD = 'correct horse battery staple';
const ref = (reference: string) => ({ reference });
const HEARTH = 'https://hearth.example/fhir';

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0' });
  admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'admin', scope: ADMIN_SCOPE, allPatients: true }),
    ADMIN_SCOPE,
  );
  await putAll(s, admin, [
    { resourceType: 'Organization', id: 'gp', name: 'Hyde Park Surgery' },
    { resourceType: 'Organization', id: 'trust', name: 'Community trust' },
    { resourceType: 'Organization', id: 'charity', name: 'Carers charity' },
    {
      resourceType: 'HealthcareService',
      id: 'nursing',
      name: 'Community nursing',
      providedBy: ref('Organization/trust'),
    },
    { resourceType: 'Practitioner', id: 'gp', name: [{ family: 'Walsh' }] },
    { resourceType: 'Practitioner', id: 'volunteer', name: [{ family: 'Evans' }] },
    {
      resourceType: 'PractitionerRole',
      id: 'gp-role',
      practitioner: ref('Practitioner/gp'),
      organization: ref('Organization/gp'),
    },
    {
      resourceType: 'PractitionerRole',
      id: 'volunteer-role',
      practitioner: ref('Practitioner/volunteer'),
      organization: ref('Organization/charity'),
    },
    // Registered with the practice: the GP may refer them; the charity has no relationship with them.
    ...['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => ({
      resourceType: 'Patient',
      id,
      name: [{ family: `Intake${id}` }],
      generalPractitioner: [ref('Organization/gp')],
    })),
  ]);
  await registerUsers(s, [
    {
      username: 'gp',
      name: 'gp',
      password: PASSWORD,
      practitioner: 'Practitioner/gp',
      roles: [{ practitionerRole: 'PractitionerRole/gp-role', organization: 'Organization/gp' }],
    },
    {
      username: 'volunteer',
      name: 'volunteer',
      password: PASSWORD,
      practitioner: 'Practitioner/volunteer',
      roles: [{ practitionerRole: 'PractitionerRole/volunteer-role', organization: 'Organization/charity' }],
    },
  ]);
  gp = await userToken(s, 'gp', PASSWORD);
  volunteer = await userToken(s, 'volunteer', PASSWORD);
});
afterAll(async () => s?.close());

function referral(patient: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    category: [{ coding: [{ system: `${HEARTH}/CodeSystem/referral-category`, code: 'step-up' }] }],
    priority: 'urgent',
    subject: ref(`Patient/${patient}`),
    requester: ref('PractitionerRole/gp-role'),
    performer: [ref('Organization/trust')],
    reasonCode: [{ text: 'Two falls in a week' }],
    ...extra,
  };
}

function submit(token: string, sr: unknown, more: Parameters['parameter'] = []) {
  return s.http
    .post('/fhir/ServiceRequest/$submit-referral')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'Parameters', parameter: [{ name: 'referral', resource: sr }, ...(more ?? [])] });
}

async function countOf(query: string): Promise<number> {
  const res = await s.http.get(`/fhir/${query}&_total=accurate`).set('Authorization', `Bearer ${admin}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.total as number;
}

const out = (p: Parameters, name: string) => (p.parameter ?? []).filter((x) => x.name === name).map((x) => x.resource);

describe('$submit-referral: the structured content', () => {
  it('reports every missing item at once, each with its expression: 422, nothing written', async () => {
    const res = await submit(gp, { resourceType: 'ServiceRequest', subject: ref('Patient/p1') });
    expect(res.status).toBe(422);
    const oo = res.body as OperationOutcome;
    expect(oo.resourceType).toBe('OperationOutcome');
    const where = oo.issue.map((i) => i.expression?.[0]);
    for (const e of [
      'ServiceRequest.requester',
      'ServiceRequest.performer',
      'ServiceRequest.category',
      'ServiceRequest.priority',
      'ServiceRequest.reasonCode',
    ]) {
      expect(where, JSON.stringify(oo)).toContain(e);
    }
    expect(oo.issue.every((i) => i.severity === 'error')).toBe(true);
    // One issue per item: the validator's repeats of them (cardinality, hearth-sr-1/2) are left out.
    expect(oo.issue.filter((i) => i.expression?.[0] === 'ServiceRequest.category')).toHaveLength(1);
    expect(oo.issue.some((i) => /hearth-sr-/.test(i.diagnostics ?? ''))).toBe(false);
    expect(await countOf('ServiceRequest?subject=Patient/p1')).toBe(0);
  });

  it('reports invalid items too: unknown category and performer, wrong reference type, bad priority', async () => {
    const res = await submit(
      gp,
      referral('p1', {
        category: [{ coding: [{ system: `${HEARTH}/CodeSystem/referral-category`, code: 'astrology' }] }],
        priority: 'soon' as never,
        requester: ref('Patient/p1'),
        performer: [ref('Organization/trust'), ref('HealthcareService/no-such-service')],
      }),
    );
    expect(res.status).toBe(422);
    const issues = (res.body as OperationOutcome).issue;
    const at = (e: string) => issues.find((i) => i.expression?.includes(e));
    expect(at('ServiceRequest.category')?.code).toBe('code-invalid');
    expect(at('ServiceRequest.priority')?.code).toBe('value');
    expect(at('ServiceRequest.requester')?.diagnostics).toMatch(/PractitionerRole or Organization or Practitioner/);
    expect(at('ServiceRequest.performer[1]')?.code).toBe('not-found');
    expect(at('ServiceRequest.performer[1]')?.diagnostics).toMatch(/HealthcareService\/no-such-service is not known/);
    expect(at('ServiceRequest.performer[0]')).toBeUndefined();
    expect(await countOf('ServiceRequest?subject=Patient/p1')).toBe(0);
    expect(await countOf('Task?patient=Patient/p1')).toBe(0);
  });

  it('is 400 without a ServiceRequest in referral', async () => {
    const res = await submit(gp, { resourceType: 'Patient' });
    expect(res.status).toBe(400);
  });
});

describe('$submit-referral: what it writes', () => {
  it('creates the active ServiceRequest and one linked, requested fulfilment Task per performer', async () => {
    const res = await submit(
      gp,
      referral('p2', {
        status: undefined,
        intent: undefined,
        performer: [ref('Organization/trust'), ref('HealthcareService/nursing')],
      }),
      [{ name: 'note', valueString: 'Please call her daughter first' }],
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const body = res.body as Parameters;
    const sr = out(body, 'referral')[0] as ServiceRequest;
    expect(res.headers.location).toBe(`${s.baseUrl}/ServiceRequest/${sr.id}/_history/1`);
    expect(sr).toMatchObject({ status: 'active', intent: 'order', subject: ref('Patient/p2') });
    expect(sr.meta?.profile).toEqual([`${HEARTH}/StructureDefinition/HearthReferral`]);
    expect(sr.authoredOn).toBeDefined();
    const tasks = out(body, 'task') as Task[];
    expect(tasks.map((t) => t.owner?.reference).sort()).toEqual(['HealthcareService/nursing', 'Organization/trust']);
    for (const t of tasks) {
      expect(t).toMatchObject({
        status: 'requested',
        intent: 'order',
        code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
        focus: ref(`ServiceRequest/${sr.id}`),
        for: ref('Patient/p2'),
        requester: ref('PractitionerRole/gp-role'),
        priority: 'urgent',
      });
      expect(t.meta?.profile).toEqual([`${HEARTH}/StructureDefinition/HearthReferralTask`]);
      expect(t.authoredOn).toBeDefined();
      expect(t.note?.[0].text).toBe('Please call her daughter first');
    }
    const outcome = out(body, 'outcome')[0] as OperationOutcome;
    expect(outcome.issue.map((i) => i.severity)).toEqual(['information']);
    // Stored as answered: the Tasks are found by their focus.
    const found = await s.http
      .get(`/fhir/Task?focus=ServiceRequest/${sr.id}&_include=Task:focus`)
      .set('Authorization', `Bearer ${admin}`);
    expect(found.body.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match')).toHaveLength(2);
  });

  it('writes nothing when a write fails part-way (a Task outside a restricted scope: 403)', async () => {
    // May create Tasks only for the charity: the Task for the trust is refused before commit, with the referral.
    const scope = `system/ServiceRequest.crs system/Task.rs system/Task.c?owner=Organization/charity system/*.r`;
    const client = await registerSystem(s, { clientId: 'charity-only', scope, allPatients: true });
    const token = await systemToken(s, client, scope);
    const provenances = await countOf('Provenance?patient=Patient/p3');
    const res = await submit(
      token,
      referral('p3', { performer: [ref('Organization/charity'), ref('Organization/trust')] }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(await countOf('ServiceRequest?subject=Patient/p3')).toBe(0);
    expect(await countOf('Task?patient=Patient/p3')).toBe(0);
    expect(await countOf('Provenance?patient=Patient/p3')).toBe(provenances);
  });

  it('refuses a user with no relationship with the patient (403), writing nothing', async () => {
    const res = await submit(volunteer, referral('p3', { requester: ref('PractitionerRole/volunteer-role') }));
    expect(res.status).toBe(403);
    expect((res.body as OperationOutcome).issue[0].diagnostics).toMatch(/No legitimate relationship with Patient\/p3/);
    expect(await countOf('ServiceRequest?subject=Patient/p3')).toBe(0);
  });
});

describe('$submit-referral: duplicates', () => {
  let first: ServiceRequest;
  let firstTask: Task;

  beforeAll(async () => {
    const res = await submit(gp, referral('p4'));
    expect(res.status).toBe(201);
    first = out(res.body as Parameters, 'referral')[0] as ServiceRequest;
    firstTask = out(res.body as Parameters, 'task')[0] as Task;
  });

  it('creates a second open referral to the same service, with a duplicate warning naming the first', async () => {
    const res = await submit(gp, referral('p4', { priority: 'routine' }));
    expect(res.status).toBe(201);
    const warnings = (out(res.body as Parameters, 'outcome')[0] as OperationOutcome).issue.filter(
      (i) => i.severity === 'warning',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0].code).toBe('duplicate');
    expect(warnings[0].diagnostics).toContain(`ServiceRequest/${first.id}`);
    expect(warnings[0].diagnostics).toContain(`Task/${firstTask.id} (requested)`);
    expect(await countOf('ServiceRequest?subject=Patient/p4')).toBe(2);
  });

  it('refuses it with onDuplicate=reject: 409 naming the open referrals, nothing written', async () => {
    const res = await submit(gp, referral('p4'), [{ name: 'onDuplicate', valueCode: 'reject' }]);
    expect(res.status).toBe(409);
    const issues = (res.body as OperationOutcome).issue;
    expect(issues.every((i) => i.code === 'duplicate' && i.severity === 'error')).toBe(true);
    expect(issues.some((i) => i.diagnostics?.includes(`ServiceRequest/${first.id}`))).toBe(true);
    expect(await countOf('ServiceRequest?subject=Patient/p4')).toBe(2);
    expect(await countOf('Task?patient=Patient/p4')).toBe(2);
  });

  it('does not count another service, nor a referral whose Tasks are all finished', async () => {
    const other = await submit(gp, referral('p4', { performer: [ref('Organization/charity')] }), [
      { name: 'onDuplicate', valueCode: 'reject' },
    ]);
    expect(other.status).toBe(201);
    const p5 = await submit(gp, referral('p5'));
    const task = out(p5.body as Parameters, 'task')[0] as Task;
    const cancelled = await s.http
      .put(`/fhir/Task/${task.id}`)
      .set('Authorization', `Bearer ${gp}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...task, status: 'cancelled', statusReason: { text: 'Sent in error' } });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    const again = await submit(gp, referral('p5'), [{ name: 'onDuplicate', valueCode: 'reject' }]);
    expect(again.status).toBe(201);
  });

  it('$check-duplicates names the open referrals of a patient to a service and writes nothing', async () => {
    const res = await s.http
      .get('/fhir/ServiceRequest/$check-duplicates?patient=Patient/p4&performer=Organization/trust')
      .set('Authorization', `Bearer ${gp}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const refs = (res.body as Parameters).parameter!.filter((p) => p.name === 'duplicate').map((p) => p.valueReference);
    expect(refs).toHaveLength(2);
    expect(refs).toContainEqual(ref(`ServiceRequest/${first.id}`));
    const none = await s.http
      .post('/fhir/ServiceRequest/$check-duplicates')
      .set('Authorization', `Bearer ${gp}`)
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Parameters', parameter: [{ name: 'referral', resource: referral('p1') }] });
    expect(none.status).toBe(200);
    expect((none.body as Parameters).parameter!.filter((p) => p.name === 'duplicate')).toHaveLength(0);
    // A caller who may not see the patient learns nothing (p2 has an open referral to the trust).
    const check = (token: string) =>
      s.http
        .get('/fhir/ServiceRequest/$check-duplicates?patient=Patient/p2&performer=Organization/trust')
        .set('Authorization', `Bearer ${token}`);
    const duplicates = (res: { body: Parameters }) => res.body.parameter!.filter((p) => p.name === 'duplicate');
    expect(duplicates(await check(gp))).toHaveLength(1);
    expect(duplicates(await check(volunteer))).toHaveLength(0);
  });
});

describe('the same referral as a plain transaction Bundle', () => {
  it('still creates the ServiceRequest and its Task, the Task pointing at the new ServiceRequest', async () => {
    const srUrl = 'urn:uuid:7f2d7b52-5a7c-4d0b-9d53-3d7b1b6a9c01';
    const res = await s.http
      .post('/fhir')
      .set('Authorization', `Bearer ${gp}`)
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: srUrl,
            resource: {
              ...referral('p1'),
              authoredOn: '2026-01-05T09:00:00Z',
              meta: { profile: [`${HEARTH}/StructureDefinition/HearthReferral`] },
            },
            request: { method: 'POST', url: 'ServiceRequest' },
          },
          {
            resource: {
              resourceType: 'Task',
              meta: { profile: [`${HEARTH}/StructureDefinition/HearthReferralTask`] },
              status: 'requested',
              intent: 'order',
              code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
              focus: ref(srUrl),
              for: ref('Patient/p1'),
              authoredOn: '2026-01-05T09:00:00Z',
              requester: ref('PractitionerRole/gp-role'),
              owner: ref('Organization/trust'),
            },
            request: { method: 'POST', url: 'Task' },
          },
        ],
      });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [srLoc, taskLoc] = res.body.entry.map((e: { response: { status: string; location: string } }) => {
      expect(e.response.status).toMatch(/^201/);
      return e.response.location;
    });
    const srId = srLoc.split('/ServiceRequest/')[1].split('/')[0];
    const task = await s.http
      .get(`/fhir/Task/${taskLoc.split('/Task/')[1].split('/')[0]}`)
      .set('Authorization', `Bearer ${gp}`);
    expect(task.body.focus).toEqual(ref(`ServiceRequest/${srId}`));
  });
});
