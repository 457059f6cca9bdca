/**
 * Subscriptions over rest-hook, against a real local receiver: the
 * "Testable requirements (Subscriptions)" of STANDARDS.md §4 (Backport IG
 * conformance, workflow, notifications, payloads, errors) and R4 criteria
 * subscriptions (R4 subscription.html).
 */
import { createHmac } from 'node:crypto';
import type { Bundle, Extension, Subscription, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { eventsOf, startReceiver, statusValue, type Receiver } from '../support/receiver.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/';
const SECRET = 'a-test-signing-secret-of-enough-length-0123456789';

let s: TestServer;
let receiver: Receiver;

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
    HEARTH_SUBSCRIPTION_RETRY_MS: '50',
    HEARTH_SUBSCRIPTION_MAX_FAILURES: '3',
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

function topicSubscription(
  topic: string,
  filters: string[],
  options: Partial<{
    content: string;
    endpoint: string;
    heartbeat: number;
    maxCount: number;
    headers: string[];
    channel: string;
    payload: string;
  }> = {},
): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason: 'test',
    criteria: `${TOPIC}${topic}`,
    _criteria: { extension: filters.map((f) => ({ url: `${BACKPORT}backport-filter-criteria`, valueString: f })) },
    extension: [
      { url: 'https://hearth.example/fhir/StructureDefinition/subscription-signing-secret', valueString: SECRET },
    ],
    channel: {
      type: (options.channel ?? 'rest-hook') as 'rest-hook',
      endpoint: options.endpoint ?? receiver.url,
      payload: options.payload ?? 'application/fhir+json',
      _payload: {
        extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: options.content ?? 'id-only' }],
      },
      header: options.headers,
      extension: [
        ...(options.heartbeat
          ? [{ url: `${BACKPORT}backport-heartbeat-period`, valueUnsignedInt: options.heartbeat }]
          : []),
        ...(options.maxCount ? [{ url: `${BACKPORT}backport-max-count`, valuePositiveInt: options.maxCount }] : []),
      ],
    },
  } as Subscription;
}

async function subscribe(subscription: Subscription): Promise<Subscription> {
  const res = await s.http.post('/fhir/Subscription').set('Content-Type', FHIR_JSON).send(subscription);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Subscription;
}

async function waitForStatus(id: string, status: string): Promise<Subscription> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await s.http.get(`/fhir/Subscription/${id}`);
    if (res.body.status === status) return res.body as Subscription;
    if (Date.now() > deadline) throw new Error(`Subscription/${id} is ${res.body.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function task(body: Partial<Task>, id?: string): Promise<Task> {
  const resource = { resourceType: 'Task', status: 'requested', intent: 'order', ...body, ...(id ? { id } : {}) };
  const res = id
    ? await s.http.put(`/fhir/Task/${id}`).set('Content-Type', FHIR_JSON).send(resource)
    : await s.http.post('/fhir/Task').set('Content-Type', FHIR_JSON).send(resource);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body as Task;
}

/** The notifications of one subscription received (and accepted) so far, handshake first. */
function notificationsOf(id: string): Bundle[] {
  return receiver.received
    .filter((r) => r.answered === 200 && r.body && statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${id}`))
    .map((r) => r.body!);
}

async function waitForNotifications(id: string, count: number): Promise<Bundle[]> {
  const deadline = Date.now() + 10_000;
  while (notificationsOf(id).length < count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} notifications for ${id}, got ${notificationsOf(id).length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return notificationsOf(id);
}

/** The event numbers notified (and accepted) so far, in arrival order, across notifications. */
function eventNumbersOf(id: string): number[] {
  return notificationsOf(id).flatMap((n) => eventsOf(n).map((e) => e.number));
}

async function waitForEvent(id: string, number: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!eventNumbersOf(id).includes(number)) {
    if (Date.now() > deadline)
      throw new Error(`event ${number} of ${id} did not arrive (got ${eventNumbersOf(id).join(',')})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits long enough for a notification that should not come (the worker looks every second at most). */
const settle = () => new Promise((r) => setTimeout(r, 1500));

describe('conformance (Backport IG conformance.html)', () => {
  it('lists Subscription with the backport profile, $status and $events, the topics, and instantiates the server statement', async () => {
    const res = await s.http.get('/fhir/metadata');
    expect(res.body.instantiates).toContain(
      'http://hl7.org/fhir/uv/subscriptions-backport/CapabilityStatement/backport-subscription-server-r4',
    );
    const entry = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Subscription');
    expect(entry.supportedProfile).toContain(`${BACKPORT}backport-subscription`);
    expect(entry.operation.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['status', 'events']));
    const topics = entry.extension
      .filter((e: { url: string }) => e.url === `${BACKPORT}capabilitystatement-subscriptiontopic-canonical`)
      .map((e: { valueCanonical: string }) => e.valueCanonical);
    expect(topics).toEqual(
      expect.arrayContaining([
        `${TOPIC}referral-received`,
        `${TOPIC}referral-triaged`,
        `${TOPIC}task-assigned`,
        `${TOPIC}task-overdue`,
        `${TOPIC}task-completed`,
        `${TOPIC}care-plan-changed`,
        `${TOPIC}communication-posted`,
        `${TOPIC}caseload-changed`,
        `${TOPIC}population-group-changed`,
      ]),
    );
  });

  it('publishes each topic as a Basic SubscriptionTopic (R5 cross-version extensions) with its filters', async () => {
    const res = await s.http.get('/fhir/Basic?code=http://hl7.org/fhir/fhir-types|SubscriptionTopic&_count=50');
    expect(res.status).toBe(200);
    const topics = (res.body.entry as { resource: { extension: Extension[] } }[]).map((e) => e.resource);
    const url = (t: { extension: Extension[] }) =>
      t.extension.find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/artifact-url')?.valueUri;
    expect(topics.map(url).sort()).toHaveLength(9);
    const assigned = topics.find((t) => url(t) === `${TOPIC}task-assigned`)!;
    const filters = assigned.extension
      .filter((e) => e.url.endsWith('extension-SubscriptionTopic.canFilterBy'))
      .map((e) => e.extension?.find((x) => x.url === 'filterParameter')?.valueString);
    expect(filters).toEqual(expect.arrayContaining(['owner', 'patient', 'status']));
  });

  it('refuses an unknown topic, an unsupported filter, channel or payload content with an OperationOutcome, storing nothing', async () => {
    const before = (await s.http.get('/fhir/Subscription?_summary=count')).body.total;
    const cases: [string, Subscription][] = [
      ['unknown topic', topicSubscription('no-such-topic', [])],
      ['filter the topic does not offer', topicSubscription('task-assigned', ['Task?description=x'])],
      ['filter on another type', topicSubscription('task-assigned', ['Patient?name=x'])],
      ['email channel', topicSubscription('task-assigned', [], { channel: 'email' })],
      ['payload content', topicSubscription('task-assigned', [], { content: 'everything' })],
      ['payload type', topicSubscription('task-assigned', [], { payload: 'application/fhir+xml' })],
      [
        'http endpoint off loopback',
        topicSubscription('task-assigned', [], { endpoint: 'http://partner.example.org/hook' }),
      ],
      ['unqualified reference', topicSubscription('task-assigned', ['Task?owner=abc'])],
    ];
    for (const [what, subscription] of cases) {
      const res = await s.http.post('/fhir/Subscription').set('Content-Type', FHIR_JSON).send(subscription);
      expect(res.status, what).toBeGreaterThanOrEqual(400);
      expect(res.status, what).toBeLessThan(500);
      expect(res.body.resourceType, what).toBe('OperationOutcome');
    }
    expect((await s.http.get('/fhir/Subscription?_summary=count')).body.total).toBe(before);
  });

  it('refuses a status of active or error from a client', async () => {
    const res = await s.http
      .post('/fhir/Subscription')
      .set('Content-Type', FHIR_JSON)
      .send({ ...topicSubscription('task-assigned', []), status: 'active' });
    expect(res.status).toBe(422);
  });
});

describe('handshake and activation (Backport IG workflow.html)', () => {
  it('answers requested, sends a handshake, and becomes active when the endpoint answers 2xx', async () => {
    const created = await subscribe(topicSubscription('task-assigned', ['Task?owner=Organization/handshake-org']));
    expect(created.status).toBe('requested');
    const [handshake] = await waitForNotifications(created.id!, 1);
    expect(handshake.type).toBe('history');
    expect(statusValue(handshake, 'type')).toBe('handshake');
    expect(statusValue(handshake, 'topic')).toBe(`${TOPIC}task-assigned`);
    await waitForStatus(created.id!, 'active');
  });

  it('goes to error with Subscription.error when the endpoint fails the handshake', async () => {
    receiver.answer = 500;
    try {
      const created = await subscribe(topicSubscription('task-assigned', ['Task?owner=Organization/failing']));
      const errored = await waitForStatus(created.id!, 'error');
      expect(errored.error).toMatch(/Handshake failed: the endpoint answered 500/);
    } finally {
      receiver.answer = 200;
    }
  });
});

describe('event notifications (Backport IG notifications.html, payloads.html)', () => {
  it('sends exactly one event-notification per matching change, numbered one after another, focus Task/<id>; none for a change that does not match', async () => {
    // max-count 1: one event per notification (without it, events pending together share one).
    const sub = await subscribe(
      topicSubscription('task-assigned', ['Task?owner=Organization/team-a'], { maxCount: 1 }),
    );
    await waitForStatus(sub.id!, 'active');
    const first = await task({ owner: { reference: 'Organization/team-a' } });
    await task({ owner: { reference: 'Organization/team-b' } });
    const moved = await task({ owner: { reference: 'Organization/team-b' } });
    await task({ ...moved, owner: { reference: 'Organization/team-a' } }, moved.id);
    const [, n1, n2] = await waitForNotifications(sub.id!, 3);
    await settle();
    expect(notificationsOf(sub.id!)).toHaveLength(3);
    expect(statusValue(n1, 'type')).toBe('event-notification');
    expect(eventsOf(n1)).toEqual([{ number: 1, focus: `Task/${first.id}` }]);
    expect(eventsOf(n2)).toEqual([{ number: 2, focus: `Task/${moved.id}` }]);
    expect(statusValue(n2, 'events-since-subscription-start')).toBe('2');
    // An update that leaves the owner as it was is no new assignment.
    await task({ ...first, description: 'still team a' }, first.id);
    await settle();
    expect(notificationsOf(sub.id!)).toHaveLength(3);
  });

  it('carries ids only (id-only), nothing but the status (empty), or the resource (full-resource); every entry has request and response', async () => {
    const owner = 'Organization/payloads';
    const subs = await Promise.all(
      (['id-only', 'empty', 'full-resource'] as const).map((content) =>
        subscribe(topicSubscription('task-assigned', [`Task?owner=${owner}`], { content })),
      ),
    );
    for (const sub of subs) await waitForStatus(sub.id!, 'active');
    const t = await task({ owner: { reference: owner } });
    const [idOnly, empty, full] = await Promise.all(
      subs.map(async (sub) => (await waitForNotifications(sub.id!, 2))[1]),
    );
    for (const bundle of [idOnly, empty, full]) {
      for (const entry of bundle.entry!) expect(entry.request?.method).toBeTruthy();
      expect(bundle.entry![0].request).toEqual({
        method: 'GET',
        url: expect.stringMatching(/^Subscription\/[^/]+\/\$status$/),
      });
    }
    expect(idOnly.entry).toHaveLength(2);
    expect(idOnly.entry![1].resource).toBeUndefined();
    expect(idOnly.entry![1].fullUrl).toBe(`${s.baseUrl}/Task/${t.id}`);
    expect(eventsOf(idOnly)[0].focus).toBe(`Task/${t.id}`);
    expect(empty.entry).toHaveLength(1);
    expect(eventsOf(empty)[0].focus).toBeUndefined();
    expect(full.entry![1].resource).toMatchObject({ resourceType: 'Task', id: t.id, owner: { reference: owner } });
    expect(full.entry![1].request).toEqual({ method: 'POST', url: 'Task' });
  });

  it('sends channel headers as HTTP headers, Content-Type as channel.payload, and an HMAC signature of the body', async () => {
    const owner = 'Organization/headers';
    const sub = await subscribe(
      topicSubscription('task-assigned', [`Task?owner=${owner}`], {
        headers: ['Authorization: Bearer partner-secret', 'X-Partner: hearth-test'],
        payload: 'application/fhir+json; fhirVersion=4.0',
      }),
    );
    const [handshake] = await waitForNotifications(sub.id!, 1);
    const post = receiver.received.find((r) => r.body === handshake)!;
    expect(post.headers.authorization).toBe('Bearer partner-secret');
    expect(post.headers['x-partner']).toBe('hearth-test');
    expect(post.headers['content-type']).toBe('application/fhir+json; fhirVersion=4.0');
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(post.headers['x-hearth-signature']))!;
    expect(createHmac('sha256', SECRET).update(`${t}.${post.raw}`).digest('hex')).toBe(v1);
    expect(post.headers['idempotency-key']).toBe(`${sub.id}:handshake`);
  });

  it('sends a heartbeat when nothing happens for the heartbeat period', async () => {
    const sub = await subscribe(
      topicSubscription('task-assigned', ['Task?owner=Organization/quiet'], { heartbeat: 1 }),
    );
    const [, heartbeat] = await waitForNotifications(sub.id!, 2);
    expect(statusValue(heartbeat, 'type')).toBe('heartbeat');
    expect(heartbeat.entry).toHaveLength(1);
  });
});

describe('errors and recovery (Backport IG errors.html)', () => {
  it('keeps numbering while the endpoint is down, goes to error, replays with $events, and continues numbering after re-activation', async () => {
    const owner = 'Organization/outage';
    const sub = await subscribe(topicSubscription('task-assigned', [`Task?owner=${owner}`]));
    await waitForStatus(sub.id!, 'active');
    await task({ owner: { reference: owner } });
    await waitForNotifications(sub.id!, 2);
    receiver.answer = 503;
    const missed = [];
    for (let i = 0; i < 3; i++) missed.push(await task({ owner: { reference: owner } }));
    const errored = await waitForStatus(sub.id!, 'error');
    expect(errored.error).toMatch(/failed 3 times/);
    receiver.answer = 200;
    const status = await s.http.get(`/fhir/Subscription/${sub.id}/$status`);
    expect(status.status).toBe(200);
    expect(status.body.type).toBe('searchset');
    const parameters = status.body.entry[0].resource;
    expect(statusValue({ resourceType: 'Bundle', type: 'history', entry: [{ resource: parameters }] }, 'status')).toBe(
      'error',
    );
    expect(
      statusValue(
        { resourceType: 'Bundle', type: 'history', entry: [{ resource: parameters }] },
        'events-since-subscription-start',
      ),
    ).toBe('4');
    const events = await s.http.get(`/fhir/Subscription/${sub.id}/$events?eventsSinceNumber=2`);
    expect(events.status).toBe(200);
    expect(events.body.type).toBe('history');
    expect(statusValue(events.body, 'type')).toBe('query-event');
    expect(eventsOf(events.body)).toEqual(missed.map((t, i) => ({ number: i + 2, focus: `Task/${t.id}` })));
    // The client asks for re-activation: a new handshake, and numbering goes on from 4.
    const current = (await s.http.get(`/fhir/Subscription/${sub.id}`)).body;
    const again = await s.http
      .put(`/fhir/Subscription/${sub.id}`)
      .set('Content-Type', FHIR_JSON)
      .send({ ...current, status: 'requested', extension: topicSubscription('x', []).extension });
    expect(again.status).toBe(200);
    await waitForStatus(sub.id!, 'active');
    const handshakes = () => notificationsOf(sub.id!).filter((n) => statusValue(n, 'type') === 'handshake');
    expect(handshakes()).toHaveLength(2);
    const after = await task({ owner: { reference: owner } });
    await waitForEvent(sub.id!, 5);
    const last = notificationsOf(sub.id!).at(-1)!;
    expect(eventsOf(last)).toEqual([{ number: 5, focus: `Task/${after.id}` }]);
  });

  it('retries a failed delivery and delivers in order once the receiver is back', async () => {
    const owner = 'Organization/blip';
    const sub = await subscribe(topicSubscription('task-assigned', [`Task?owner=${owner}`]));
    await waitForStatus(sub.id!, 'active');
    receiver.answer = 500;
    await task({ owner: { reference: owner } });
    await task({ owner: { reference: owner } });
    await new Promise((r) => setTimeout(r, 60));
    receiver.answer = 200;
    await waitForEvent(sub.id!, 2);
    // In order, each once (events pending together may share a notification).
    expect(eventNumbersOf(sub.id!)).toEqual([1, 2]);
    expect((await s.http.get(`/fhir/Subscription/${sub.id}`)).body.status).toBe('active');
  });
});

describe('R4 criteria subscriptions (R4 subscription.html)', () => {
  it('POSTs the matching resource on create and update, and nothing on delete', async () => {
    const owner = 'Organization/criteria';
    const created = await s.http
      .post('/fhir/Subscription')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'criteria',
        criteria: `Task?owner=${owner}&status=requested`,
        channel: { type: 'rest-hook', endpoint: `${receiver.url}/criteria`, payload: 'application/fhir+json' },
      });
    expect(created.status).toBe(201);
    await waitForStatus(created.body.id, 'active');
    const mine = () => receiver.received.filter((r) => r.path === '/hook/criteria');
    expect(mine()[0].raw).toBe(''); // the handshake of an R4 criteria subscription carries no body
    const t = await task({ owner: { reference: owner } });
    await task({ owner: { reference: 'Organization/someone-else' } });
    await receiver.waitFor(receiver.received.length); // let any stray delivery land
    const deadline = Date.now() + 10_000;
    while (mine().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(mine()[1].body).toMatchObject({ resourceType: 'Task', id: t.id });
    expect(mine()[1].headers['content-type']).toBe('application/fhir+json');
    expect((await s.http.delete(`/fhir/Task/${t.id}`)).status).toBe(200);
    await settle();
    expect(mine()).toHaveLength(2);
  });
});
