/**
 * A restricted role (STANDARDS.md §9.3 point 5, "Voluntary-sector role cannot
 * read Observation/Condition unless included in the Task input/shared
 * CarePlan"; docs/security-restricted.md): Jo works for a carers' charity, an
 * Organization of type voluntary. The GP refers a patient to the charity with
 * a Task owned by it. Jo sees the Task, its focus ServiceRequest, the Patient
 * as minimal demographics (SUBSETTED), the Observation listed in the Task's
 * input, a CarePlan shared with the charity and what it refers to, and
 * Communications to or from the charity; not the patient's other Observations,
 * Conditions, CarePlans, Tasks or Communications, on any path. Jo may move the
 * Task on and complete it with output, and send a Communication; nothing else.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { adminToken, signedInOrganisations } from '../support/organisations.ts';
import { eventsOf, startReceiver, statusValue, type Receiver } from '../support/receiver.ts';

let s: TestServer;
let receiver: Receiver;
let admin: string;
let jo: string;

const ref = (reference: string) => ({ reference });
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };
const code = (text: string) => ({ coding: [{ system: 'http://loinc.org', code: '8867-4' }], text });
const TASK = {
  resourceType: 'Task',
  id: 't1',
  status: 'requested',
  intent: 'order',
  priority: 'routine',
  for: ref('Patient/p1'),
  focus: ref('ServiceRequest/sr1'),
  requester: ref('PractitionerRole/gp-role'),
  owner: ref('Organization/charity'),
  input: [{ type: { text: 'Recent reading' }, valueReference: ref('Observation/o-input') }],
};

const joGet = (path: string, headers: Record<string, string> = {}) =>
  s.http.get(`/fhir/${path}`).set({ Authorization: `Bearer ${jo}`, ...headers });
function send(token: string, method: 'put' | 'post' | 'delete' | 'patch', path: string, body?: unknown) {
  const req = s.http[method](`/fhir/${path}`).set('Authorization', `Bearer ${token}`);
  if (body === undefined) return req;
  const type = method === 'patch' ? 'application/json-patch+json' : FHIR_JSON;
  return req.set('Content-Type', type).send(JSON.stringify(body));
}
async function put(resource: { resourceType: string; id: string; [k: string]: unknown }): Promise<void> {
  const res = await send(admin, 'put', `${resource.resourceType}/${resource.id}`, resource);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}
const entryIds = (body: Bundle) =>
  (body.entry ?? []).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`).sort();

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_ACCESS_GRACE_HOURS: '0', HEARTH_SUBSCRIPTION_LOOPBACK: 'on' });
  receiver = await startReceiver();
  admin = await adminToken(s);
  const charity = {
    id: 'charity',
    name: 'Carers Network',
    type: [{ coding: [{ system: 'https://hearth.example/fhir/CodeSystem/organization-type', code: 'voluntary' }] }],
  };
  const people = [
    { username: 'gp', organization: 'gp' },
    { username: 'jo', organization: 'charity' },
  ];
  ({ jo } = await signedInOrganisations(s, admin, [{ id: 'gp', name: 'Practice' }, charity], people));
  for (const id of ['p1', 'p2']) {
    await put({
      resourceType: 'Patient',
      id,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: id === 'p1' ? '9434765919' : '9449306079' }],
      name: [{ family: id === 'p1' ? 'Begum' : 'Other' }],
      gender: 'female',
      birthDate: '1958-11-02',
      telecom: [{ system: 'phone', value: '0113 496 0000' }],
      maritalStatus: { text: 'Married' },
      generalPractitioner: [ref('Organization/gp')],
      contact: [{ name: { family: 'Begum', given: ['Amir'] } }],
    });
  }
  await put({
    resourceType: 'ServiceRequest',
    id: 'sr1',
    status: 'active',
    intent: 'order',
    subject: ref('Patient/p1'),
    requester: ref('PractitionerRole/gp-role'),
    performer: [ref('Organization/charity')],
    code: { text: 'Carer support' },
  });
  for (const id of ['o-input', 'o-other']) {
    await put({ resourceType: 'Observation', id, status: 'final', code: code(id), subject: ref('Patient/p1') });
  }
  for (const id of ['c-other', 'c-shared']) {
    await put({ resourceType: 'Condition', id, subject: ref('Patient/p1'), code: { text: id } });
  }
  await put(TASK);
  await put({ ...TASK, id: 't-other', owner: ref('Organization/gp'), input: undefined });
  await put({
    resourceType: 'CarePlan',
    id: 'cp-shared',
    status: 'active',
    intent: 'plan',
    subject: ref('Patient/p1'),
    addresses: [ref('Condition/c-shared')],
    activity: [
      { detail: { status: 'scheduled', description: 'Weekly visit', performer: [ref('Organization/charity')] } },
    ],
  });
  await put({
    resourceType: 'CarePlan',
    id: 'cp-private',
    status: 'active',
    intent: 'plan',
    subject: ref('Patient/p1'),
  });
  await put({
    resourceType: 'Communication',
    id: 'm-to',
    status: 'completed',
    subject: ref('Patient/p1'),
    sender: ref('PractitionerRole/gp-role'),
    recipient: [ref('Organization/charity')],
    payload: [{ contentString: 'Her husband is the carer' }],
  });
  await put({
    resourceType: 'Communication',
    id: 'm-other',
    status: 'completed',
    subject: ref('Patient/p1'),
    sender: ref('PractitionerRole/gp-role'),
    recipient: [ref('Organization/gp')],
    payload: [{ contentString: 'Clinical note' }],
  });
}, 60_000);
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

describe('what a restricted role reads', () => {
  it('its Task, the focus ServiceRequest, the Task input, the shared CarePlan and what it refers to, its Communications', async () => {
    for (const path of [
      'Task/t1',
      'ServiceRequest/sr1',
      'Observation/o-input',
      'CarePlan/cp-shared',
      'Condition/c-shared',
      'Communication/m-to',
      'Organization/gp',
    ]) {
      expect((await joGet(path)).status, path).toBe(200);
    }
  });

  it('nothing else of the patient: 404 exactly as for a missing id', async () => {
    for (const path of [
      'Observation/o-other',
      'Condition/c-other',
      'CarePlan/cp-private',
      'Task/t-other',
      'Communication/m-other',
      'Patient/p2',
      'Observation/o-other/_history/1',
    ]) {
      const res = await joGet(path);
      expect(res.status, path).toBe(404);
      expect(res.body.issue[0].diagnostics).toMatch(/is not known$/);
    }
  });

  it('the Patient as minimal demographics, tagged SUBSETTED, on read, search, include and history', async () => {
    const read = await joGet('Patient/p1');
    expect(read.status).toBe(200);
    const shown = [read.body];
    shown.push((await joGet('Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919')).body.entry[0].resource);
    const included = await joGet('Task?_id=t1&_include=Task:patient');
    shown.push(
      included.body.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient')
        .resource,
    );
    shown.push(...(await joGet('Patient/p1/_history')).body.entry.map((e: { resource: unknown }) => e.resource));
    for (const patient of shown) {
      expect(Object.keys(patient).sort()).toEqual(
        ['birthDate', 'gender', 'id', 'identifier', 'meta', 'name', 'resourceType', 'telecom'].sort(),
      );
      expect(patient.meta.tag).toContainEqual(SUBSETTED);
    }
  });

  it('searches count and return only what is shared; includes, chains, _has and compartments reveal nothing more', async () => {
    const obs = await joGet('Observation?subject=Patient/p1&_total=accurate');
    expect(obs.body.total).toBe(1);
    expect(entryIds(obs.body)).toEqual(['Observation/o-input']);
    expect(entryIds((await joGet('Condition?subject=Patient/p1')).body)).toEqual(['Condition/c-shared']);
    expect(entryIds((await joGet('CarePlan?subject=Patient/p1')).body)).toEqual(['CarePlan/cp-shared']);
    expect(entryIds((await joGet('Communication?subject=Patient/p1')).body)).toEqual(['Communication/m-to']);
    const tasks = await joGet('Task?_total=accurate');
    expect(tasks.body.total).toBe(1);
    const compartment = await joGet('Patient/p1/Observation?_total=accurate');
    expect(compartment.body.total).toBe(1);
    const rev = await joGet('Patient?_id=p1&_revinclude=Observation:subject&_revinclude=Task:patient');
    expect(entryIds(rev.body)).toEqual(['Observation/o-input', 'Patient/p1', 'Task/t1']);
    const focus = await joGet('ServiceRequest?_id=sr1&_revinclude=Task:focus');
    expect(entryIds(focus.body)).toEqual(['ServiceRequest/sr1', 'Task/t1']);
    const include = await joGet('Condition?_id=c-other,c-shared&_include=Condition:subject');
    expect(entryIds(include.body)).toEqual(['Condition/c-shared', 'Patient/p1']);
    const chain = await joGet('Observation?subject:Patient.family=Begum&code:text=o-other');
    expect(entryIds(chain.body)).toEqual([]);
    const has = await joGet('Patient?_has:Observation:subject:code:text=o-other');
    expect(entryIds(has.body)).toEqual([]);
    const hasShared = await joGet('Patient?_has:Observation:subject:code:text=o-input');
    expect(entryIds(hasShared.body)).toEqual(['Patient/p1']);
    const history = await joGet('Observation/_history?_count=100');
    expect(entryIds(history.body)).toEqual(['Observation/o-input']);
  });
});

describe('what a restricted role writes', () => {
  it('may not create or change anything but its Tasks and Communications, nor delete, nor break glass (403)', async () => {
    const obs = await send(jo, 'post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: code('by jo'),
      subject: ref('Patient/p1'),
    });
    expect(obs.status).toBe(403);
    expect(obs.body.issue[0].diagnostics).toMatch(/restricted role .* not write Observation/);
    const input = await send(jo, 'put', 'Observation/o-input', {
      resourceType: 'Observation',
      id: 'o-input',
      status: 'amended',
      code: code('o-input'),
      subject: ref('Patient/p1'),
    });
    expect(input.status).toBe(403);
    expect((await send(jo, 'delete', 'Task/t1')).status).toBe(403);
    const priority = await send(jo, 'put', 'Task/t1', { ...TASK, priority: 'urgent' });
    expect(priority.status).toBe(403);
    expect(priority.body.issue[0].diagnostics).toMatch(/not priority/);
    const reassign = await send(jo, 'patch', 'Task/t1', [
      { op: 'replace', path: '/owner/reference', value: 'Organization/gp' },
    ]);
    expect(reassign.status).toBe(403);
    // In a transaction: one refused entry, nothing written.
    const tx = await s.http
      .post('/fhir')
      .set('Authorization', `Bearer ${jo}`)
      .set('Content-Type', FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { request: { method: 'PUT', url: 'Task/t1' }, resource: { ...TASK, status: 'accepted' } },
            {
              request: { method: 'POST', url: 'Condition' },
              resource: { resourceType: 'Condition', subject: ref('Patient/p1'), code: { text: 'by jo' } },
            },
          ],
        }),
      );
    expect(tx.status).toBe(403);
    const after = await joGet('Task/t1');
    expect(after.body).toMatchObject({ status: 'requested', priority: 'routine', meta: { versionId: '1' } });
    expect(after.body.owner).toEqual(ref('Organization/charity'));
    expect((await joGet('Patient/p1', { 'X-Break-Glass-Reason': 'Worried' })).status).toBe(403);
  });

  it('sends a Communication as itself about a patient shared with it, not about another', async () => {
    const message = {
      resourceType: 'Communication',
      status: 'completed',
      subject: ref('Patient/p1'),
      sender: ref('PractitionerRole/jo-role'),
      recipient: [ref('PractitionerRole/gp-role')],
      payload: [{ contentString: 'First visit booked' }],
    };
    const sent = await send(jo, 'post', 'Communication', message);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect((await joGet(`Communication/${sent.body.id}`)).status).toBe(200);
    const forged = await send(jo, 'post', 'Communication', { ...message, sender: ref('PractitionerRole/gp-role') });
    expect(forged.status).toBe(403);
    const other = await send(jo, 'post', 'Communication', { ...message, subject: ref('Patient/p2') });
    expect(other.status).toBe(403);
  });

  it('moves its Task on and completes it with output; after the grace period (0 here) its focus and input lapse, the Task stays', async () => {
    let task: Record<string, unknown> = { ...TASK };
    for (const status of ['accepted', 'in-progress']) {
      task = { ...task, status };
      const res = await send(jo, 'put', 'Task/t1', task);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    const done = await send(jo, 'put', 'Task/t1', {
      ...task,
      status: 'completed',
      output: [{ type: { text: 'Outcome' }, valueString: 'Carer assessment done; respite arranged' }],
      note: [{ text: 'Husband relieved' }],
      lastModified: new Date(Date.now() - 1000).toISOString(),
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.output[0].valueString).toMatch(/respite/);
    expect((await joGet('Task/t1')).status).toBe(200);
    for (const path of ['ServiceRequest/sr1', 'Observation/o-input']) {
      expect((await joGet(path)).status, path).toBe(404);
    }
    // The patient is still shared through the CarePlan the charity performs in.
    expect((await joGet('Patient/p1')).body.meta.tag).toContainEqual(SUBSETTED);
  });
});

describe('subscriptions', () => {
  it('a notification carries the shared CarePlan and withholds one not shared', async () => {
    const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
    const created = await send(jo, 'post', 'Subscription', {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'restricted',
      criteria: 'https://hearth.example/fhir/SubscriptionTopic/care-plan-changed',
      _criteria: {
        extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: 'CarePlan?patient=Patient/p1' }],
      },
      channel: {
        type: 'rest-hook',
        endpoint: `${receiver.url}/restricted`,
        payload: 'application/fhir+json',
        _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'full-resource' }] },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const deadline = Date.now() + 20_000;
    while ((await joGet(`Subscription/${id}`)).body.status !== 'active') {
      if (Date.now() > deadline) throw new Error('subscription not active');
      await new Promise((r) => setTimeout(r, 25));
    }
    const plan = { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: ref('Patient/p1') };
    const hidden = await send(admin, 'post', 'CarePlan', { ...plan, description: 'private marker' });
    expect(hidden.status).toBe(201);
    const shared = await send(admin, 'post', 'CarePlan', {
      ...plan,
      description: 'shared marker',
      activity: [{ detail: { status: 'scheduled', performer: [ref('Organization/charity')] } }],
    });
    expect(shared.status).toBe(201);
    const events = new Map<number, { focus?: string }>();
    let raw = '';
    for (;;) {
      for (const r of receiver.received) {
        if (!statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${id}`)) continue;
        if (statusValue(r.body, 'type') !== 'event-notification') continue;
        for (const e of eventsOf(r.body as Bundle)) events.set(e.number, e);
        raw += r.raw;
      }
      if (events.size >= 2 || Date.now() > deadline + 20_000) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const byNumber = [...events.entries()].sort(([a], [b]) => a - b).map(([, e]) => e.focus);
    expect(byNumber).toEqual([undefined, `CarePlan/${shared.body.id}`]);
    expect(raw.includes('private marker')).toBe(false);
    expect(raw.includes('shared marker')).toBe(true);
  });
});
