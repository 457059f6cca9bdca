/**
 * The caseload-changed and population-group-changed topics over rest-hook
 * (docs/subscription-topics.md; STANDARDS.md §4 Backport notifications, §8
 * "Cohort Group membership updates … Subscription on Group (topic) notifies
 * the neighbourhood team"): a write that changes a team's caseload row (a
 * task completed, a risk assessment, a contact) is one event for that team's
 * subscription and none for another team's, however many resources the
 * transaction wrote; a write that leaves the rows as they were is none; a
 * Group whose current members change ($stratify or a direct update) is one
 * event, a Group update that keeps them none.
 */
import type { Bundle, Subscription } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_SCOPE, registerSystem, systemToken } from '../support/auth.ts';
import { signedInOrganisations } from '../support/organisations.ts';
import { eventsOf, startReceiver, statusValue, type Receiver } from '../support/receiver.ts';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/';
const GROUP_CODES = 'https://hearth.example/fhir/CodeSystem/population-group';
const SCT = 'http://snomed.info/sct';

let s: TestServer;
let receiver: Receiver;
let admin = '';

function subscription(topic: string, filter: string): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason: 'caseload topics test',
    criteria: `${TOPIC}${topic}`,
    _criteria: { extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: filter }] },
    channel: {
      type: 'rest-hook',
      endpoint: receiver.url,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'id-only' }] },
    },
  } as Subscription;
}

/** Subscribes as the harness client (sees everyone), or as the holder of `token`; waits until active. */
async function subscribe(topic: string, filter: string, token?: string): Promise<string> {
  const as = token ? { Authorization: `Bearer ${token}` } : {};
  const res = await s.http
    .post('/fhir/Subscription')
    .set(as)
    .set('Content-Type', FHIR_JSON)
    .send(subscription(topic, filter));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.id as string;
  const deadline = Date.now() + 10_000;
  while ((await s.http.get(`/fhir/Subscription/${id}`).set(as)).body.status !== 'active') {
    if (Date.now() > deadline) throw new Error(`Subscription/${id} did not become active`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return id;
}

/** The event notifications of one subscription received so far. */
function notificationsOf(id: string): Bundle[] {
  return receiver.received
    .filter((r) => r.answered === 200 && r.body && statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${id}`))
    .map((r) => r.body!)
    .filter((b) => statusValue(b, 'type') === 'event-notification');
}

const eventsOfSubscription = (id: string) => notificationsOf(id).flatMap((n) => eventsOf(n));

async function waitForEvents(id: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (eventsOfSubscription(id).length < count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} events for ${id}, got ${eventsOfSubscription(id).length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Long enough for a notification that should not come (the worker wakes on NOTIFY; retries every 50 ms). */
const settle = () => new Promise((r) => setTimeout(r, 1500));

async function write(method: 'post' | 'put', path: string, body: object): Promise<void> {
  const res = await s.http[method](`/fhir/${path}`).set('Content-Type', FHIR_JSON).send(body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

const patient = (id: string, family: string) => ({
  resourceType: 'Patient',
  id,
  name: [{ family }],
  birthDate: '1940-01-01',
});
const episode = (id: string, p: string, team: string) => ({
  resourceType: 'EpisodeOfCare',
  id,
  status: 'active',
  patient: { reference: `Patient/${p}` },
  managingOrganization: { reference: 'Organization/ct-trust' },
  team: [{ reference: `CareTeam/${team}` }],
});
const TASK = {
  resourceType: 'Task',
  id: 'ct-task',
  status: 'in-progress',
  intent: 'order',
  for: { reference: 'Patient/ct-p1' },
  owner: { reference: 'Organization/ct-trust' },
  restriction: { period: { end: '2030-01-01T00:00:00Z' } },
};

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
    HEARTH_SUBSCRIPTION_RETRY_MS: '50',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_EXPORT_POLL_MS: '100',
    HEARTH_COHORT_SHARE: '0.5',
  });
  receiver = await startReceiver();
  admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'ct-admin', scope: ADMIN_SCOPE, allPatients: true }),
    ADMIN_SCOPE,
  );
  await putAll(s, admin, [
    { resourceType: 'Organization', id: 'ct-trust', name: 'Community trust' },
    { resourceType: 'CareTeam', id: 'ct-team-a', name: 'Team A', status: 'active' },
    { resourceType: 'CareTeam', id: 'ct-team-b', name: 'Team B', status: 'active' },
    patient('ct-p1', 'One'),
    patient('ct-p2', 'Two'),
    episode('ct-ep1', 'ct-p1', 'ct-team-a'),
    episode('ct-ep2', 'ct-p2', 'ct-team-b'),
    TASK,
  ]);
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

describe('caseload-changed: one event per team row a write changes', () => {
  let teamA = '';
  let teamB = '';
  let byPatient = '';

  beforeAll(async () => {
    teamA = await subscribe('caseload-changed', 'EpisodeOfCare?team=CareTeam/ct-team-a');
    teamB = await subscribe('caseload-changed', 'team=CareTeam/ct-team-b');
    byPatient = await subscribe('caseload-changed', 'patient=Patient/ct-p1');
  });

  it('a task completion is one event for the team, focus its EpisodeOfCare (GET: the episode was not written)', async () => {
    await write('put', 'Task/ct-task', { ...TASK, status: 'completed', statusReason: { text: 'visited' } });
    await waitForEvents(teamA, 1);
    await waitForEvents(byPatient, 1);
    const [notification] = notificationsOf(teamA);
    expect(eventsOf(notification)).toEqual([{ number: 1, focus: 'EpisodeOfCare/ct-ep1' }]);
    expect(notification.entry![1]).toMatchObject({
      fullUrl: `${s.baseUrl}/EpisodeOfCare/ct-ep1`,
      request: { method: 'GET', url: 'EpisodeOfCare/ct-ep1' },
      response: { status: '200' },
    });
  });

  it('a RiskAssessment is one event for the team', async () => {
    await write('post', 'RiskAssessment', {
      resourceType: 'RiskAssessment',
      status: 'final',
      subject: { reference: 'Patient/ct-p1' },
      occurrenceDateTime: new Date().toISOString(),
      prediction: [
        {
          qualitativeRisk: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'high' }],
          },
        },
      ],
    });
    await waitForEvents(teamA, 2);
  });

  it('a Communication is one event for the team', async () => {
    await write('post', 'Communication', {
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: 'Patient/ct-p1' },
      sent: new Date().toISOString(),
      payload: [{ contentString: 'Phoned, all well' }],
    });
    await waitForEvents(teamA, 3);
  });

  it('a transaction writing several of the person’s resources is one event, not one per resource', async () => {
    const res = await s.http
      .post('/fhir')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { ...TASK, id: undefined, status: 'requested' },
            request: { method: 'POST', url: 'Task' },
          },
          {
            resource: {
              resourceType: 'Communication',
              status: 'completed',
              subject: { reference: 'Patient/ct-p1' },
              sent: new Date(Date.now() + 1000).toISOString(),
            },
            request: { method: 'POST', url: 'Communication' },
          },
        ],
      });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await waitForEvents(teamA, 4);
  });

  it('a write that leaves the rows as they were is no event', async () => {
    await write('put', 'Patient/ct-p1', { ...patient('ct-p1', 'One'), telecom: [{ system: 'phone', value: '0113' }] });
    await write('post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: SCT, code: '271649006' }] },
      subject: { reference: 'Patient/ct-p1' },
    });
    await settle();
    const events = eventsOfSubscription(teamA);
    expect(events.map((e) => e.number)).toEqual([1, 2, 3, 4]);
    expect(events.every((e) => e.focus === 'EpisodeOfCare/ct-ep1')).toBe(true);
    expect(eventsOfSubscription(byPatient)).toHaveLength(4);
  });

  it("none of team A's changes reaches team B; an episode leaving B's caseload is B's event (DELETE)", async () => {
    expect(eventsOfSubscription(teamB)).toEqual([]);
    const res = await s.http.delete('/fhir/EpisodeOfCare/ct-ep2');
    expect(res.status).toBeLessThan(300);
    await waitForEvents(teamB, 1);
    const [notification] = notificationsOf(teamB);
    expect(eventsOf(notification)).toEqual([{ number: 1, focus: 'EpisodeOfCare/ct-ep2' }]);
    expect(notification.entry![1].request).toEqual({ method: 'DELETE', url: 'EpisodeOfCare/ct-ep2' });
    await settle();
    expect(eventsOfSubscription(teamA)).toHaveLength(4);
  });
});

describe('population-group-changed: a Group whose current members change', () => {
  let byGroup = '';
  let cohort = '';

  beforeAll(async () => {
    byGroup = await subscribe('population-group-changed', 'Group?_id=ct-group');
    cohort = await subscribe('population-group-changed', `code=${GROUP_CODES}|complex-needs`);
  });

  it('a direct Group update that changes membership is one event; one that keeps it is none', async () => {
    const group = {
      resourceType: 'Group',
      id: 'ct-group',
      type: 'person',
      actual: true,
      name: 'Local list',
      member: [{ entity: { reference: 'Patient/ct-p1' }, period: { start: '2025-01-01' } }],
    };
    await write('put', 'Group/ct-group', group);
    await waitForEvents(byGroup, 1);
    await write('put', 'Group/ct-group', { ...group, name: 'Local list (renamed)' });
    await write('put', 'Group/ct-group', {
      ...group,
      member: [
        { entity: { reference: 'Patient/ct-p1' }, period: { start: '2025-01-01', end: '2025-06-01' }, inactive: true },
        { entity: { reference: 'Patient/ct-p2' }, period: { start: '2025-06-01' } },
      ],
    });
    await waitForEvents(byGroup, 2);
    await settle();
    const events = eventsOfSubscription(byGroup);
    expect(events).toEqual([
      { number: 1, focus: 'Group/ct-group' },
      { number: 2, focus: 'Group/ct-group' },
    ]);
    expect(eventsOfSubscription(cohort)).toEqual([]);
  });

  it('$stratify putting someone in the complex-needs cohort is one event for the cohort subscription', async () => {
    await putAll(s, admin, [
      ...['84114007', '44054006', '38341003', '49436004', '64859006'].map((code, k) => ({
        resourceType: 'Condition',
        id: `ct-p1-c${k}`,
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
        },
        code: { coding: [{ system: SCT, code }] },
        subject: { reference: 'Patient/ct-p1' },
      })),
    ]);
    const kickOff = await s.http
      .post('/fhir/$stratify')
      .set({ Authorization: `Bearer ${admin}`, Prefer: 'respond-async', Accept: FHIR_JSON });
    expect(kickOff.status, kickOff.text).toBe(202);
    const status = (kickOff.headers['content-location'] as string).replace(new URL(s.baseUrl).origin, '');
    for (let i = 0; ; i++) {
      const res = await s.http.get(status).set('Authorization', `Bearer ${admin}`);
      if (res.status === 200) break;
      expect(res.status, res.text).toBe(202);
      if (i > 300) throw new Error('$stratify did not finish');
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitForEvents(cohort, 1);
    await settle();
    expect(eventsOfSubscription(cohort)).toEqual([{ number: 1, focus: 'Group/complex-needs' }]);
    const group = (await s.http.get('/fhir/Group/complex-needs')).body;
    expect(group.member.map((m: { entity: { reference: string } }) => m.entity.reference)).toEqual(['Patient/ct-p1']);
    expect(eventsOfSubscription(byGroup)).toHaveLength(2);
  });
});

describe('who sees what: content only as the subscription owner may see it', () => {
  it("a user without a relationship gets the events' numbers and times, never their focus", async () => {
    const tokens = await signedInOrganisations(
      s,
      admin,
      [{ id: 'ct-other' }],
      [{ username: 'ct-stranger', organization: 'ct-other' }],
    );
    const caseload = await subscribe('caseload-changed', 'team=CareTeam/ct-team-a', tokens['ct-stranger']);
    const groups = await subscribe('population-group-changed', 'Group?_id=ct-group-2', tokens['ct-stranger']);
    const everyone = await subscribe('population-group-changed', 'Group?_id=ct-group-2');
    await write('put', 'Group/ct-group-2', {
      resourceType: 'Group',
      id: 'ct-group-2',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: 'Patient/ct-p1' }, period: { start: '2025-01-01' } }],
    });
    await write('post', 'Communication', {
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: 'Patient/ct-p1' },
      sent: new Date(Date.now() + 5000).toISOString(),
    });
    await waitForEvents(caseload, 1);
    await waitForEvents(groups, 1);
    await waitForEvents(everyone, 1);
    expect(eventsOfSubscription(everyone)).toEqual([{ number: 1, focus: 'Group/ct-group-2' }]);
    expect(eventsOfSubscription(groups)).toEqual([{ number: 1, focus: undefined }]);
    // (The stratification queue may write for ct-p1 meanwhile: more caseload events, none with a focus.)
    expect(eventsOfSubscription(caseload).every((e) => e.focus === undefined)).toBe(true);
    for (const id of [caseload, groups]) expect(notificationsOf(id).every((n) => n.entry!.length === 1)).toBe(true);
  });
});
