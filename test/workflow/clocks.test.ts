/**
 * Response clocks and on-time breach detection (issue 7; DESIGN.md "urgent
 * community response within 2 hours"; STANDARDS.md §3 "Overdue detection"):
 * a referral Task created by any path without a deadline gets one from its
 * category and priority (configured per service by HEARTH_RESPONSE_CLOCKS),
 * and when an open Task's deadline passes the breach watch marks it (the
 * task-breach extension, a version written by Hearth with its Provenance) so
 * a task-overdue rest-hook subscription is notified with nothing read; with
 * two nodes each Task is marked once.
 */
import type { Bundle, Provenance, Subscription, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { eventsOf, startReceiver, statusValue, type Receiver } from '../support/receiver.ts';
import { waitForSubscriptionStatus } from '../support/subscriptions.ts';
import { CATEGORY, Neighbourhood, ref, TASK_CODE } from './support.ts';

const BREACH = 'https://hearth.example/fhir/StructureDefinition/task-breach';
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const HOUR = 3600_000;
const ENV = {
  HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
  // Community nursing answers routine referrals in a week; mental health (in this test) urgent ones in 2 seconds.
  HEARTH_RESPONSE_CLOCKS: JSON.stringify({
    'Organization/lcn': { routine: 'P7D' },
    'Organization/mh': { urgent: 'PT2S' },
  }),
};

let s: TestServer;
let n: Neighbourhood;
let receiver: Receiver;

beforeAll(async () => {
  s = await startTestServer(ENV);
  n = new Neighbourhood(s);
  await n.setUp();
  receiver = await startReceiver();
}, 120_000);
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

const span = (t: Task) => Date.parse(t.restriction!.period!.end!) - Date.parse(t.restriction!.period!.start!);

describe('response clocks', () => {
  it('gives an urgent community response referral authoredOn + 2 hours, whatever its priority', async () => {
    const { task } = await n.refer(await n.patient(), { category: 'urgent-community-response', priority: 'routine' });
    expect(task.restriction?.period?.start).toBe(task.authoredOn);
    expect(span(task)).toBe(2 * HOUR);
  });

  it("uses the service's configured clock, the built-in default elsewhere, and keeps a deadline given", async () => {
    const patient = await n.patient();
    const routine = await n.refer(patient, { priority: 'routine' });
    expect(span(routine.task)).toBe(7 * 24 * HOUR);
    const urgent = await n.refer(patient, { priority: 'urgent' });
    expect(span(urgent.task)).toBe(24 * HOUR);
    const given = await n.refer(patient, { task: { restriction: { period: { end: '2031-01-01T09:00:00Z' } } } });
    expect(given.task.restriction).toEqual({ period: { end: '2031-01-01T09:00:00Z' } });
  });

  it('sets the clock in a transaction too, from the ServiceRequest written beside it', async () => {
    const patient = await n.patient();
    const authoredOn = new Date().toISOString();
    const res = await n.as('gp').post('', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:7f0c1a52-0000-4000-8000-000000000001',
          resource: {
            resourceType: 'ServiceRequest',
            status: 'active',
            intent: 'order',
            category: [{ coding: [{ system: CATEGORY, code: 'urgent-community-response' }] }],
            priority: 'asap',
            subject: ref(patient),
            requester: ref('PractitionerRole/gp-role'),
            performer: [ref('Organization/lcn')],
            authoredOn,
            reasonCode: [{ text: 'Fall at home, cannot get up' }],
          },
          request: { method: 'POST', url: 'ServiceRequest' },
        },
        {
          resource: {
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            code: TASK_CODE,
            focus: { reference: 'urn:uuid:7f0c1a52-0000-4000-8000-000000000001' },
            for: ref(patient),
            authoredOn,
            requester: ref('PractitionerRole/gp-role'),
            owner: ref('Organization/lcn'),
          },
          request: { method: 'POST', url: 'Task' },
        },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const location = (res.body as Bundle).entry![1].response!.location!;
    const task = (await n.s.http.get(`/fhir/${location.split('/_history')[0].split('/fhir/').pop()}`)).body as Task;
    expect(task.restriction?.period?.end).toBe(new Date(Date.parse(authoredOn) + 2 * HOUR).toISOString());
  });
});

describe('on-time breach detection', () => {
  it('marks a Task when its clock runs out, and a task-overdue subscriber hears of it with nothing read', async () => {
    const sub = await s.http
      .post('/fhir/Subscription')
      .set('Content-Type', FHIR_JSON)
      .send(overdueSubscription(receiver.url, 'Organization/mh'));
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    await waitForSubscriptionStatus(s.http, sub.body.id, 'active');

    const patient = await n.patient();
    const late = await n.refer(patient, { owner: 'Organization/mh', priority: 'urgent' });
    const onTime = await n.refer(patient, { owner: 'Organization/mh', priority: 'urgent' });
    const deadline = Date.parse(late.task.restriction!.period!.end!);
    expect(deadline - Date.parse(late.task.authoredOn!)).toBe(2000);
    // The team deals with the second in time: accepted then completed before its clock runs out.
    const mh = n.as('mh');
    const coordinator = { name: 'careCoordinator', valueReference: ref('PractitionerRole/mh-role') };
    expect((await mh.op(onTime.task.id!, 'accept', [coordinator])).status).toBe(200);
    expect((await mh.op(onTime.task.id!, 'complete', [{ name: 'outcome', valueString: 'Seen' }])).status).toBe(200);

    const [notification] = await waitForEvents(sub.body.id, 1, 15_000);
    expect(notification.at).toBeGreaterThanOrEqual(deadline);
    expect(notification.at - deadline).toBeLessThan(5000);
    expect(eventsOf(notification.body)[0].focus).toContain(`Task/${late.task.id}`);

    const marked = await n.current(late.task.id!);
    expect(marked.meta?.versionId).toBe('2');
    expect(marked.extension).toContainEqual({ url: BREACH, valueDateTime: late.task.restriction!.period!.end });
    const provenance = await s.http.get(`/fhir/Provenance?target=Task/${late.task.id}`);
    const byHearth = ((provenance.body as Bundle).entry ?? [])
      .map((e) => e.resource as Provenance)
      .find((p) => p.target[0].reference === `Task/${late.task.id}/_history/2`);
    expect(byHearth?.agent[0].who?.display).toBe('Hearth');
    expect(byHearth?.reason?.[0].text).toMatch(/passed with the Task still open/);
    // The completed one is left alone, and only the late one was notified.
    expect((await n.current(onTime.task.id!)).extension).toBeUndefined();
    await new Promise((r) => setTimeout(r, 500));
    expect(notificationsOf(sub.body.id).length).toBe(1);

    // A new deadline clears the mark (it was of the old one).
    const extended = await mh.put(`Task/${late.task.id}`, {
      ...marked,
      restriction: { period: { ...marked.restriction!.period, end: '2031-01-01T09:00:00Z' } },
    });
    expect(extended.status, JSON.stringify(extended.body)).toBe(200);
    expect((extended.body as Task).extension).toBeUndefined();
  });

  it('marks each Task once with two nodes watching the same database', async () => {
    const other = await startTestServer(ENV, s.databaseUrl);
    try {
      const end = new Date(Date.now() + 2000).toISOString();
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const node = i % 2 ? other : s;
        const res = await node.http
          .post('/fhir/Task')
          .set('Content-Type', FHIR_JSON)
          .send({ resourceType: 'Task', status: 'ready', intent: 'order', restriction: { period: { end } } });
        expect(res.status).toBe(201);
        ids.push(res.body.id);
      }
      const deadline = Date.now() + 15_000;
      let marked: Task[] = [];
      while (marked.length < ids.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const res = await s.http.get(`/fhir/Task?_id=${ids.join(',')}&_count=50`);
        marked = ((res.body as Bundle).entry ?? [])
          .map((e) => e.resource as Task)
          .filter((t) => t.extension?.some((x) => x.url === BREACH));
      }
      expect(marked.length).toBe(ids.length);
      // Let a second marking, if any node were to make one, land before counting.
      await new Promise((r) => setTimeout(r, 1500));
      for (const id of ids) {
        const history = await s.http.get(`/fhir/Task/${id}/_history`);
        expect((history.body as Bundle).total, id).toBe(2);
      }
    } finally {
      await other.close();
    }
  });
});

function overdueSubscription(endpoint: string, owner: string): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason: 'Overdue referrals of the mental health team',
    criteria: 'https://hearth.example/fhir/SubscriptionTopic/task-overdue',
    _criteria: { extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: `Task?owner=${owner}` }] },
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'id-only' }] },
    },
  } as Subscription;
}

/** The event notifications (not the handshake) of one subscription received so far. */
function notificationsOf(id: string) {
  return receiver.received.filter(
    (r) =>
      r.body &&
      statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${id}`) &&
      statusValue(r.body, 'type') === 'event-notification',
  );
}

async function waitForEvents(id: string, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (notificationsOf(id).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${notificationsOf(id).length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return notificationsOf(id);
}
