/**
 * Subscriptions under access control (STANDARDS.md §4 "A subscriber lacking
 * read access to the focus resource never receives full-resource content for
 * it", §9.3 "subscriptions (evaluate at notification time)"; issue 5):
 *
 * - a notification carries the focus (and its content) only while the
 *   subscription's owner may read it, judged when it is sent: a relationship
 *   that ends (care team period, referral closed with no grace) withholds the
 *   next ones, and $events by the owner withholds them too;
 * - a Subscription is its owner's (the organisation of the caller, or the
 *   client without one): another organisation's user is told it is not known
 *   by every route (read, vread, search, system search, history, update,
 *   patch, delete, batch, $status, $events, $get-ws-binding-token), a
 *   colleague sees it, and the owner tag cannot be forged;
 * - subscribing to a type the token cannot read is refused (403);
 * - the channel headers (a partner's credentials) never reach another
 *   organisation's user.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Subscription } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { userToken } from '../support/auth.ts';
import { adminToken, PASSWORD, signedInOrganisations } from '../support/organisations.ts';
import { eventsOf, startReceiver, statusValue, type Receiver } from '../support/receiver.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/';
const OWNER_TAG = 'https://hearth.example/fhir/CodeSystem/owner';

let s: TestServer;
let receiver: Receiver;
let admin: string;
/** Full user tokens (user/*.cruds): alice and alan work at org-a, bob at org-b. */
const tokens: Record<'alice' | 'alan' | 'bob', string> = { alice: '', alan: '', bob: '' };

const ref = (reference: string) => ({ reference });
const as = (token: string) => ({ Authorization: `Bearer ${token}` });

async function put(resource: { resourceType: string; id: string; [k: string]: unknown }, ifMatch?: string) {
  const req = s.http.put(`/fhir/${resource.resourceType}/${resource.id}`).set(as(admin)).set('Content-Type', FHIR_JSON);
  if (ifMatch) req.set('If-Match', ifMatch);
  const res = await req.send(JSON.stringify(resource));
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body as { id: string; meta: { versionId: string } };
}

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_AUTH: 'on',
    HEARTH_RATE_LIMIT: '0',
    HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
    HEARTH_ACCESS_GRACE_HOURS: '0',
    HEARTH_SUBSCRIPTION_RETRY_MS: '50',
    HEARTH_SUBSCRIPTION_MAX_FAILURES: '1000',
  });
  receiver = await startReceiver();
  admin = await adminToken(s);
  Object.assign(
    tokens,
    await signedInOrganisations(
      s,
      admin,
      [{ id: 'org-a' }, { id: 'org-b' }],
      [
        { username: 'alice', organization: 'org-a' },
        { username: 'alan', organization: 'org-a' },
        { username: 'bob', organization: 'org-b' },
      ],
    ),
  );
  // Alice's care team patient (her membership ends in the first test); bob never has a relationship with them.
  await put({ resourceType: 'Patient', id: 'p-team', name: [{ family: 'Teamed' }] });
}, 120_000);
afterAll(async () => {
  await s?.close();
  await receiver?.close();
});

/** A topic-based rest-hook subscription (Backport IG). */
function topicSubscription(
  topic: string,
  filters: string[],
  options: Partial<{ content: string; headers: string[]; endpoint: string; channel: 'rest-hook' | 'websocket' }> = {},
): Subscription {
  const websocket = options.channel === 'websocket';
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason: 'access test',
    criteria: `${TOPIC}${topic}`,
    _criteria: { extension: filters.map((f) => ({ url: `${BACKPORT}backport-filter-criteria`, valueString: f })) },
    channel: {
      type: options.channel ?? 'rest-hook',
      ...(websocket ? {} : { endpoint: options.endpoint ?? receiver.url }),
      payload: 'application/fhir+json',
      _payload: {
        extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: options.content ?? 'full-resource' }],
      },
      header: options.headers,
    },
  } as Subscription;
}

async function subscribe(token: string, subscription: Subscription): Promise<Subscription> {
  const res = await s.http
    .post('/fhir/Subscription')
    .set(as(token))
    .set('Content-Type', FHIR_JSON)
    .send(JSON.stringify(subscription));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Subscription;
}

/** The notifications of one subscription the receiver accepted (200), in order of arrival. */
function notificationsOf(id: string, on: Receiver = receiver, answered = 200) {
  return on.received.filter(
    (r) => r.answered === answered && r.body && statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${id}`),
  );
}

/** Polls until the subscription's event-notification carrying event `number` has arrived; returns it (raw too). */
async function waitForEvent(id: string, number: number, on: Receiver = receiver, answered = 200) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = notificationsOf(id, on, answered).find(
      (r) => statusValue(r.body, 'type') === 'event-notification' && eventsOf(r.body).some((e) => e.number === number),
    );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`event ${number} of Subscription/${id} did not arrive`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForStatus(token: string, id: string, status: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await s.http.get(`/fhir/Subscription/${id}`).set(as(token));
    if (res.body.status === status) return;
    if (Date.now() > deadline) throw new Error(`Subscription/${id} is ${res.body.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function carePlan(id: string, patient: string, description: string) {
  return {
    resourceType: 'CarePlan',
    id,
    status: 'active',
    intent: 'plan',
    subject: ref(`Patient/${patient}`),
    description,
  };
}

/** A notification (or $events answer) that tells nothing about the focus: number and time only. */
function expectWithheld(bundle: Bundle | undefined, raw: string, secrets: string[]): void {
  expect(bundle?.entry, raw).toHaveLength(1);
  const events = eventsOf(bundle);
  expect(events.length).toBeGreaterThan(0);
  for (const e of events) expect(e.focus, raw).toBeUndefined();
  for (const secret of secrets) expect(raw.includes(secret), `${secret} in ${raw}`).toBe(false);
}

describe('authorisation at notification time', () => {
  it('a care team membership that ends: the next notification withholds focus and content, and so does $events', async () => {
    const patient = 'p-team';
    const team = {
      resourceType: 'CareTeam',
      id: 'ct-team',
      status: 'active',
      subject: ref(`Patient/${patient}`),
      participant: [{ member: ref('PractitionerRole/alice-role'), period: { start: '2020-01-01' } }],
    };
    await put(team);
    expect((await s.http.get(`/fhir/Patient/${patient}`).set(as(tokens.alice))).status).toBe(200);
    const sub = await subscribe(tokens.alice, topicSubscription('care-plan-changed', [`CarePlan?patient=${patient}`]));

    const planId = `cp-${randomUUID()}`;
    await put(carePlan(planId, patient, 'first change, while on the team'));
    const first = await waitForEvent(sub.id!, 1);
    expect(eventsOf(first.body)).toEqual([{ number: 1, focus: `CarePlan/${planId}` }]);
    expect(first.body!.entry![1].resource).toMatchObject({ resourceType: 'CarePlan', id: planId });

    // The membership ends (a second ago): no access from the next request on.
    const ended = new Date(Date.now() - 1000).toISOString();
    await put({ ...team, participant: [{ ...team.participant[0], period: { start: '2020-01-01', end: ended } }] });
    expect((await s.http.get(`/fhir/Patient/${patient}`).set(as(tokens.alice))).status).toBe(404);

    const marker = `second-change-${randomUUID()}`;
    await put(carePlan(planId, patient, marker), 'W/"1"');
    const second = await waitForEvent(sub.id!, 2);
    expect(eventsOf(second.body)).toEqual([{ number: 2, focus: undefined }]);
    expectWithheld(second.body, second.raw, [planId, patient, marker]);

    // $events by the owner now withholds both (the caller's own access, at the time of asking).
    for (const query of ['', '?content=full-resource', '?eventsSinceNumber=1&eventsUntilNumber=2&content=id-only']) {
      const events = await s.http.get(`/fhir/Subscription/${sub.id}/$events${query}`).set(as(tokens.alice));
      expect(events.status, JSON.stringify(events.body)).toBe(200);
      expect(statusValue(events.body, 'type')).toBe('query-event');
      expect(eventsOf(events.body)).toEqual([
        { number: 1, focus: undefined },
        { number: 2, focus: undefined },
      ]);
      expectWithheld(events.body, events.text, [planId, patient, marker, 'first change']);
    }
    const status = await s.http.get(`/fhir/Subscription/${sub.id}/$status`).set(as(tokens.alice));
    expect(statusValue({ resourceType: 'Bundle', type: 'history', entry: [status.body.entry[0]] }, 'status')).toBe(
      'active',
    );
  });

  it('a referral that closes (grace period 0): the next notification withholds focus and content, and so does $events', async () => {
    const patient = 'p-referred';
    await put({ resourceType: 'Patient', id: patient, name: [{ family: 'Referred' }] });
    const referral = {
      resourceType: 'Task',
      id: 'referral-a',
      status: 'requested',
      intent: 'order',
      for: ref(`Patient/${patient}`),
      owner: ref('Organization/org-a'),
    };
    await put(referral);
    expect((await s.http.get(`/fhir/Patient/${patient}`).set(as(tokens.alice))).status).toBe(200);
    const sub = await subscribe(tokens.alice, topicSubscription('care-plan-changed', [`CarePlan?patient=${patient}`]));
    const planId = `cp-${randomUUID()}`;
    await put(carePlan(planId, patient, 'while referred'));
    const first = await waitForEvent(sub.id!, 1);
    expect(first.body!.entry![1].resource).toMatchObject({ resourceType: 'CarePlan', id: planId });

    await put({
      ...referral,
      status: 'cancelled',
      statusReason: { text: 'closed for the test' },
      lastModified: new Date(Date.now() - 1000).toISOString(),
    });
    expect((await s.http.get(`/fhir/Patient/${patient}`).set(as(tokens.alice))).status).toBe(404);

    const marker = `after-closing-${randomUUID()}`;
    await put(carePlan(planId, patient, marker), 'W/"1"');
    const second = await waitForEvent(sub.id!, 2);
    expectWithheld(second.body, second.raw, [planId, patient, marker]);
    const events = await s.http.get(`/fhir/Subscription/${sub.id}/$events`).set(as(tokens.alice));
    expect(eventsOf(events.body)).toEqual([
      { number: 1, focus: undefined },
      { number: 2, focus: undefined },
    ]);
    expectWithheld(events.body, events.text, [planId, patient, marker, 'while referred']);
  });

  it('a change written while allowed but sent after the relationship ended is withheld (judged when sent, not when written)', async () => {
    const late = await startReceiver();
    try {
      const patient = 'p-late';
      await put({ resourceType: 'Patient', id: patient, name: [{ family: 'Late' }] });
      const team = {
        resourceType: 'CareTeam',
        id: 'ct-late',
        status: 'active',
        subject: ref(`Patient/${patient}`),
        participant: [{ member: ref('PractitionerRole/alice-role') }],
      };
      await put(team);
      const sub = await subscribe(
        tokens.alice,
        topicSubscription('care-plan-changed', [`CarePlan?patient=${patient}`], { endpoint: late.url }),
      );
      await waitForStatus(tokens.alice, sub.id!, 'active');
      late.answer = 500;
      const planId = `cp-${randomUUID()}`;
      const marker = `written-while-allowed-${randomUUID()}`;
      await put(carePlan(planId, patient, marker));
      // While allowed, the (refused) attempts carry the content.
      const refused = await waitForEvent(sub.id!, 1, late, 500);
      expect(refused.raw).toContain(marker);

      await put({ ...team, participant: [{ ...team.participant[0], period: { end: new Date().toISOString() } }] });
      const revoked = Date.now();
      expect((await s.http.get(`/fhir/Patient/${patient}`).set(as(tokens.alice))).status).toBe(404);
      // One more refused attempt arriving after the revocation: the next one is built after it.
      const deadline = Date.now() + 15_000;
      while (!notificationsOf(sub.id!, late, 500).some((r) => r.at > revoked)) {
        if (Date.now() > deadline) throw new Error('no retry after the revocation');
        await new Promise((r) => setTimeout(r, 20));
      }
      late.answer = 200;
      const delivered = await waitForEvent(sub.id!, 1, late);
      expectWithheld(delivered.body, delivered.raw, [planId, patient, marker]);
    } finally {
      await late.close();
    }
  });

  it('a subscriber who never had a relationship gets number and time only, never the focus (full-resource and id-only)', async () => {
    const patient = 'p-team';
    const full = await subscribe(tokens.bob, topicSubscription('care-plan-changed', [`CarePlan?patient=${patient}`]));
    const idOnly = await subscribe(
      tokens.bob,
      topicSubscription('care-plan-changed', [`CarePlan?patient=${patient}`], { content: 'id-only' }),
    );
    const planId = `cp-${randomUUID()}`;
    const marker = `not-for-bob-${randomUUID()}`;
    await put(carePlan(planId, patient, marker));
    for (const sub of [full, idOnly]) {
      const got = await waitForEvent(sub.id!, 1);
      expectWithheld(got.body, got.raw, [planId, patient, marker]);
      const events = await s.http.get(`/fhir/Subscription/${sub.id}/$events?content=full-resource`).set(as(tokens.bob));
      expectWithheld(events.body, events.text, [planId, patient, marker]);
    }
  });

  it('an R4 criteria subscription POSTs nothing for a resource its owner may not read', async () => {
    const path = `/criteria-${randomUUID()}`;
    const created = await s.http
      .post('/fhir/Subscription')
      .set(as(tokens.bob))
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'criteria',
        criteria: 'CarePlan?patient=Patient/p-team',
        channel: { type: 'rest-hook', endpoint: `${receiver.url}${path}`, payload: 'application/fhir+json' },
      });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitForStatus(tokens.bob, created.body.id, 'active');
    const marker = `criteria-${randomUUID()}`;
    await put(carePlan(`cp-${randomUUID()}`, 'p-team', marker));
    const mine = () => receiver.received.filter((r) => r.path.endsWith(path));
    // The event is numbered (the count moves) but, the owner not being allowed to see it, nothing is sent for it.
    const deadline = Date.now() + 15_000;
    const count = async () =>
      JSON.stringify((await s.http.get(`/fhir/Subscription/${created.body.id}/$status`).set(as(tokens.bob))).body);
    while (!(await count()).includes('"valueString":"1"') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await count()).toContain('"name":"events-since-subscription-start","valueString":"1"');
    await new Promise((r) => setTimeout(r, 1500));
    expect(mine().map((r) => r.headers['idempotency-key'])).toEqual([`${created.body.id}:handshake`]);
    for (const r of mine()) expect(r.raw).toBe('');
    expect(mine().some((r) => r.raw.includes(marker))).toBe(false);
  });
});

describe('scopes: subscribing needs read of the type', () => {
  it('refuses (403) a subscription to a type the token cannot read, storing nothing; allows one it can', async () => {
    const onlySubscriptions = await userToken(s, 'alice', PASSWORD, { scope: 'user/Subscription.cruds' });
    const count = async () =>
      (await s.http.get('/fhir/Subscription?_total=accurate&_count=0').set(as(onlySubscriptions))).body.total;
    const before = await count();
    const refusals: [string, Subscription][] = [
      ['task-assigned', topicSubscription('task-assigned', ['Task?owner=Organization/org-a'])],
      ['care-plan-changed', topicSubscription('care-plan-changed', [])],
      [
        'R4 criteria',
        {
          resourceType: 'Subscription',
          status: 'requested',
          reason: 'criteria',
          criteria: 'Observation?code=http://loinc.org|8867-4',
          channel: { type: 'rest-hook', endpoint: receiver.url, payload: 'application/fhir+json' },
        },
      ],
    ];
    for (const [what, subscription] of refusals) {
      const res = await s.http
        .post('/fhir/Subscription')
        .set(as(onlySubscriptions))
        .set('Content-Type', FHIR_JSON)
        .send(JSON.stringify(subscription));
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    // Update-as-create is refused the same way.
    const id = `sub-${randomUUID()}`;
    const putRes = await s.http
      .put(`/fhir/Subscription/${id}`)
      .set(as(onlySubscriptions))
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...topicSubscription('task-assigned', []), id }));
    expect(putRes.status).toBe(403);
    expect((await s.http.get(`/fhir/Subscription/${id}`).set(as(tokens.alice))).status).toBe(404);
    expect(await count()).toBe(before);

    // With read of CarePlan (and not of Task): CarePlan yes, Task no; nor may an update switch it to Task.
    const carePlanReader = await userToken(s, 'alice', PASSWORD, {
      scope: 'user/Subscription.cruds user/CarePlan.rs',
    });
    const ok = await subscribe(carePlanReader, topicSubscription('care-plan-changed', []));
    const task = await s.http
      .post('/fhir/Subscription')
      .set(as(carePlanReader))
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(topicSubscription('task-assigned', [])));
    expect(task.status).toBe(403);
    const switched = await s.http
      .put(`/fhir/Subscription/${ok.id}`)
      .set(as(carePlanReader))
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ ...topicSubscription('task-assigned', []), id: ok.id }));
    expect(switched.status).toBe(403);
    const still = await s.http.get(`/fhir/Subscription/${ok.id}`).set(as(carePlanReader));
    expect(still.body.criteria).toBe(`${TOPIC}care-plan-changed`);
  });

  it('a granular scope (CarePlan.rs?status=active) is applied at notification time too', async () => {
    const patient = 'p-scoped';
    await put({ resourceType: 'Patient', id: patient, name: [{ family: 'Scoped' }] });
    await put({
      resourceType: 'CareTeam',
      id: 'ct-scoped',
      status: 'active',
      subject: ref(`Patient/${patient}`),
      participant: [{ member: ref('PractitionerRole/alice-role') }],
    });
    const scoped = await userToken(s, 'alice', PASSWORD, {
      scope: 'user/Subscription.cruds user/CarePlan.rs?status=active',
    });
    const sub = await subscribe(scoped, topicSubscription('care-plan-changed', [`CarePlan?patient=${patient}`]));
    const drafted = `cp-${randomUUID()}`;
    const marker = `draft-${randomUUID()}`;
    await put({ ...carePlan(drafted, patient, marker), status: 'draft' });
    // One at a time, so each has a notification of its own.
    const first = await waitForEvent(sub.id!, 1);
    expectWithheld(first.body, first.raw, [drafted, marker]);
    const active = `cp-${randomUUID()}`;
    await put(carePlan(active, patient, 'active plan'));
    const second = await waitForEvent(sub.id!, 2);
    // Pending together, both events may share a notification: the active plan is there, the draft is not.
    expect(eventsOf(second.body)).toContainEqual({ number: 2, focus: `CarePlan/${active}` });
    expect(second.body!.entry!.map((e) => e.resource?.id)).toContain(active);
    expect(second.raw).not.toContain(marker);
  });
});

describe('a denial looks exactly like absence', () => {
  it('vread of a version the caller may not see says what it says of one that does not exist', async () => {
    await put({
      resourceType: 'Observation',
      id: 'obs-hidden',
      status: 'final',
      code: { text: 'pulse' },
      subject: ref('Patient/p-team'),
    });
    const hidden = await s.http.get('/fhir/Observation/obs-hidden/_history/1').set(as(tokens.bob));
    const absent = await s.http.get('/fhir/Observation/obs-never/_history/1').set(as(tokens.bob));
    expect(hidden.status).toBe(404);
    expect(absent.status).toBe(404);
    expect(hidden.body.issue[0].diagnostics.replace('obs-hidden', 'ID')).toBe(
      absent.body.issue[0].diagnostics.replace('obs-never', 'ID'),
    );
  });
});

describe('ownership: a Subscription is its organisation’s', () => {
  const credential = `partner-credential-${randomUUID()}`;
  let mine: Subscription;
  let socket: Subscription;
  /** Every answer bob got about org-a's subscriptions (none may carry the credential). */
  const seenByBob: { request: string; res: Response }[] = [];

  const bob = {
    get: async (path: string) => {
      const res = await s.http.get(`/fhir/${path}`).set(as(tokens.bob));
      seenByBob.push({ request: `GET ${path}`, res });
      return res;
    },
    send: async (method: 'put' | 'patch' | 'delete' | 'post', path: string, body?: unknown, type = FHIR_JSON) => {
      const req = s.http[method](`/fhir/${path}`).set(as(tokens.bob));
      const res = body === undefined ? await req : await req.set('Content-Type', type).send(JSON.stringify(body));
      seenByBob.push({ request: `${method.toUpperCase()} ${path}`, res });
      return res;
    },
  };
  const ids = (body: Bundle) => (body.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);

  beforeAll(async () => {
    mine = await subscribe(
      tokens.alice,
      topicSubscription('task-assigned', ['Task?owner=Organization/org-a'], {
        headers: [`Authorization: Bearer ${credential}`, `X-Partner-Key: ${credential}`],
      }),
    );
    socket = await subscribe(
      tokens.alice,
      topicSubscription('task-assigned', ['Task?owner=Organization/org-a'], {
        channel: 'websocket',
        headers: [`X-Partner-Key: ${credential}`],
      }),
    );
    await waitForStatus(tokens.alice, mine.id!, 'active');
  });

  it('is tagged with the owner organisation, and a colleague of the same organisation sees and uses it', async () => {
    expect(mine.meta?.tag).toEqual([{ system: OWNER_TAG, code: 'Organization/org-a' }]);
    const read = await s.http.get(`/fhir/Subscription/${mine.id}`).set(as(tokens.alan));
    expect(read.status).toBe(200);
    expect(read.body.channel.header).toContain(`Authorization: Bearer ${credential}`);
    const search = await s.http.get('/fhir/Subscription?_count=100').set(as(tokens.alan));
    expect(ids(search.body)).toEqual(expect.arrayContaining([`Subscription/${mine.id}`, `Subscription/${socket.id}`]));
    expect((await s.http.get(`/fhir/Subscription/${mine.id}/$status`).set(as(tokens.alan))).status).toBe(200);
    expect((await s.http.get(`/fhir/Subscription/${mine.id}/$events`).set(as(tokens.alan))).status).toBe(200);
    expect((await s.http.get(`/fhir/Subscription/${mine.id}/_history`).set(as(tokens.alan))).status).toBe(200);
    const binding = await s.http.get(`/fhir/Subscription/${socket.id}/$get-ws-binding-token`).set(as(tokens.alan));
    expect(binding.status, JSON.stringify(binding.body)).toBe(200);
  });

  it('another organisation is told it is not known: read, vread, instance history, operations, writes', async () => {
    const cases: [string, (id: string) => Promise<Response>][] = [
      ['read', (id) => bob.get(`Subscription/${id}`)],
      ['vread', (id) => bob.get(`Subscription/${id}/_history/1`)],
      ['instance history', (id) => bob.get(`Subscription/${id}/_history`)],
      ['$status', (id) => bob.get(`Subscription/${id}/$status`)],
      ['$status POST', (id) => bob.send('post', `Subscription/${id}/$status`, { resourceType: 'Parameters' })],
      ['$events', (id) => bob.get(`Subscription/${id}/$events?content=full-resource`)],
      ['$get-ws-binding-token', (id) => bob.get(`Subscription/${id}/$get-ws-binding-token`)],
      ['type $get-ws-binding-token', (id) => bob.get(`Subscription/$get-ws-binding-token?id=${id}`)],
      [
        'update',
        (id) => bob.send('put', `Subscription/${id}`, { ...topicSubscription('task-assigned', []), id, status: 'off' }),
      ],
      [
        'patch',
        (id) =>
          bob.send(
            'patch',
            `Subscription/${id}`,
            [{ op: 'replace', path: '/status', value: 'off' }],
            'application/json-patch+json',
          ),
      ],
      ['delete', (id) => bob.send('delete', `Subscription/${id}`)],
    ];
    for (const target of [mine.id!, socket.id!]) {
      const before = (await s.http.get(`/fhir/Subscription/${target}`).set(as(tokens.alice))).body as Subscription;
      for (const [what, call] of cases) {
        const res = await call(target);
        // A fresh id each time (an update of an unknown id creates it, bob's own).
        const unknown = `never-${randomUUID()}`;
        const absent = await call(unknown);
        expect(res.status, `${what}: ${res.text}`).toBe(404);
        // Exactly as a subscription that never existed (delete of an unknown id is a no-op).
        if (what !== 'delete' && what !== 'update') {
          expect(absent.status, what).toBe(404);
          expect
            .soft(res.body.issue?.[0]?.diagnostics?.replace(target, 'ID'), what)
            .toBe(absent.body.issue?.[0]?.diagnostics?.replace(unknown, 'ID'));
        }
      }
      // Nothing bob tried changed it.
      const after = (await s.http.get(`/fhir/Subscription/${target}`).set(as(tokens.alice))).body as Subscription;
      expect(after.meta?.versionId).toBe(before.meta?.versionId);
      expect(after.status).toBe(before.status);
    }
    // A transaction or batch entry is answered the same way.
    const batch = await bob.send('post', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Subscription/${mine.id}` } },
        { request: { method: 'GET', url: `Subscription?_id=${mine.id}` } },
        { request: { method: 'GET', url: `Subscription/${mine.id}/$status` } },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.entry[0].response.status).toMatch(/^404/);
    expect(batch.body.entry[1].resource.entry ?? []).toEqual([]);
    expect(batch.body.entry[2].response.status).toMatch(/^404/);
  });

  it('another organisation finds it by no search: type, _id, _tag, POST _search, system search, $status, histories', async () => {
    const hidden = [`Subscription/${mine.id}`, `Subscription/${socket.id}`];
    const searches = [
      'Subscription?_count=1000&_total=accurate',
      `Subscription?_id=${mine.id},${socket.id}&_total=accurate`,
      `Subscription?_tag=${OWNER_TAG}|Organization/org-a&_total=accurate`,
      `Subscription?criteria=${TOPIC}task-assigned&_total=accurate`,
      `?_type=Subscription&_count=1000&_total=accurate`,
      `?_id=${mine.id}&_total=accurate`,
      `?_type=Subscription,Patient&_id=${mine.id}&_total=accurate`,
    ];
    for (const query of searches) {
      const res = await bob.get(query);
      expect(res.status, `${query}: ${res.text}`).toBe(200);
      for (const id of hidden) expect(ids(res.body), query).not.toContain(id);
      if (query.includes('_id=') || query.includes('_tag=')) expect(res.body.total, query).toBe(0);
    }
    const form = await s.http
      .post('/fhir/Subscription/_search')
      .set(as(tokens.bob))
      .type('form')
      .send({ _id: mine.id! });
    seenByBob.push({ request: 'POST Subscription/_search', res: form });
    expect(form.status).toBe(200);
    expect(ids(form.body)).toEqual([]);

    // $status at type level: by id (as if unknown), and of all the caller's own.
    const byId = await bob.get(`Subscription/$status?id=${mine.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.entry ?? []).toEqual([]);
    const all = await bob.get('Subscription/$status');
    expect(all.status).toBe(200);
    expect(JSON.stringify(all.body)).not.toContain(mine.id);

    for (const path of ['Subscription/_history?_count=1000', '_history?_count=1000']) {
      const res = await bob.get(path);
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      const subs = (res.body.entry ?? []).filter((e: { fullUrl: string }) => e.fullUrl.includes('/Subscription/'));
      expect(
        subs.map((e: { fullUrl: string }) => e.fullUrl).filter((u: string) => hidden.some((h) => u.endsWith(h))),
      ).toEqual([]);
    }
  });

  it('the owner tag cannot be forged: a client naming another organisation gets its own', async () => {
    const forged = {
      ...topicSubscription('care-plan-changed', []),
      meta: {
        profile: [`${BACKPORT}backport-subscription`],
        tag: [
          { system: OWNER_TAG, code: 'Organization/org-a' },
          { system: 'https://example.org/tags', code: 'kept' },
        ],
      },
    };
    const created = await bob.send('post', 'Subscription', forged);
    expect(created.status).toBe(201);
    const ownerTags = (sub: Subscription) => sub.meta?.tag?.filter((t) => t.system === OWNER_TAG);
    expect(ownerTags(created.body)).toEqual([{ system: OWNER_TAG, code: 'Organization/org-b' }]);
    expect(created.body.meta.tag).toContainEqual({ system: 'https://example.org/tags', code: 'kept' });
    const id = `forged-${randomUUID()}`;
    const putCreated = await bob.send('put', `Subscription/${id}`, { ...forged, id });
    expect(putCreated.status).toBe(201);
    expect(ownerTags(putCreated.body)).toEqual([{ system: OWNER_TAG, code: 'Organization/org-b' }]);
    // Nor can an update hand it over.
    const updated = await bob.send('put', `Subscription/${id}`, { ...putCreated.body, meta: forged.meta });
    expect(updated.status).toBe(200);
    expect(ownerTags(updated.body)).toEqual([{ system: OWNER_TAG, code: 'Organization/org-b' }]);
    // It stays bob's: org-a neither reads nor finds it; bob does.
    for (const sub of [created.body.id, id]) {
      expect((await s.http.get(`/fhir/Subscription/${sub}`).set(as(tokens.alice))).status).toBe(404);
      expect((await bob.get(`Subscription/${sub}`)).status).toBe(200);
    }
    const aliceSearch = await s.http
      .get(`/fhir/Subscription?_tag=${OWNER_TAG}|Organization/org-a&_count=1000`)
      .set(as(tokens.alice));
    expect(ids(aliceSearch.body)).not.toContain(`Subscription/${id}`);
    expect(ids(aliceSearch.body)).not.toContain(`Subscription/${created.body.id}`);
  });

  it('another organisation cannot reach it through a resource that refers to it (_include of a Provenance or a List)', async () => {
    // _include steps and chain hops apply the patients' visibility only, not ownership (search/include.ts, chain.ts).
    // Every write leaves a Provenance of the version; a Subscription is about no patient, so its Provenance shows to all.
    const viaProvenance = await bob.get(
      `Provenance?target=Subscription/${mine.id}&_include=Provenance:target&_count=100`,
    );
    expect(viaProvenance.status).toBe(200);
    expect.soft(ids(viaProvenance.body), 'Provenance?target=…&_include').not.toContain(`Subscription/${mine.id}`);
    const anyProvenance = await bob.get(`Provenance?_include=Provenance:target:Subscription&_count=1000`);
    expect.soft(ids(anyProvenance.body), 'Provenance?_include=…:Subscription').not.toContain(`Subscription/${mine.id}`);
    // A resource of bob's own that names it.
    const list = await bob.send('post', 'List', {
      resourceType: 'List',
      status: 'current',
      mode: 'working',
      entry: [{ item: ref(`Subscription/${mine.id}`) }],
    });
    expect(list.status, list.text).toBe(201);
    const viaList = await bob.get(`List?_id=${list.body.id}&_include=List:item`);
    expect.soft(ids(viaList.body), 'List?_include=List:item').not.toContain(`Subscription/${mine.id}`);
    // Nor through a chain into it (an oracle on its endpoint, topic or status).
    const chained = async (query: string) =>
      (await bob.get(`List?_id=${list.body.id}&${query}&_total=accurate`)).body.total as number;
    expect
      .soft(await chained(`item:Subscription.url=${receiver.url}`), 'List?item:Subscription.url=<its endpoint>')
      .toBe(0);
    expect.soft(await chained(`item:Subscription.status=active`), 'List?item:Subscription.status=<its status>').toBe(0);
    for (const [what, res] of [
      ['Provenance?target=…&_include=Provenance:target', viaProvenance],
      ['Provenance?_include=Provenance:target:Subscription', anyProvenance],
      ['List?_include=List:item', viaList],
    ] as const) {
      expect.soft(res.text.includes(credential), `the credential in the answer to ${what}`).toBe(false);
    }
  });

  it('another organisation does not learn it exists from its Provenance', async () => {
    // Every write leaves a Provenance of the version, about the resource's patients: a Subscription's is about none.
    const res = await bob.get(`Provenance?target=Subscription/${mine.id}&_total=accurate`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(0);
  });

  it('no answer to another organisation carried the channel headers (a partner’s credentials)', () => {
    expect(seenByBob.length).toBeGreaterThan(40);
    const leaked = seenByBob
      .filter(({ res }) => res.text.includes(credential) || JSON.stringify(res.headers).includes(credential))
      .map(({ request }) => request);
    expect(leaked).toEqual([]);
  });
});

describe('robustness', () => {
  it('many Subscription writes at once are all answered (no write holds its connection waiting for another)', async () => {
    // Repository.transaction runs the observer's afterCommit (a registry reload on a pooled connection) before
    // it releases the transaction's own connection: enough concurrent Subscription writes wait on each other.
    // A server of its own (pool of 8, as every test server): if it hangs, the others go on.
    const other = await startTestServer({ HEARTH_SUBSCRIPTION_LOOPBACK: 'on' });
    const sleep = (ms: number) => new Promise<string>((r) => setTimeout(() => r(`no answer within ${ms} ms`), ms));
    let hung = false;
    try {
      const writes = Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          other.http
            .post('/fhir/Subscription')
            .set('Content-Type', FHIR_JSON)
            .send(
              JSON.stringify({
                ...topicSubscription('care-plan-changed', [`CarePlan?category=https://example.org/c|${i}`]),
                status: 'off',
              }),
            )
            .then((r) => r.status),
        ),
      );
      const answered = await Promise.race([writes, sleep(10_000)]);
      hung = typeof answered === 'string';
      expect(answered).toEqual(Array(12).fill(201));
      // And the server still answers.
      expect(
        await Promise.race([other.http.get('/fhir/Subscription?_count=1').then((r) => r.status), sleep(5000)]),
      ).toBe(200);
    } finally {
      // A server stuck on its pool never finishes closing: not waited for beyond a moment then.
      await Promise.race([other.close(), sleep(hung ? 1000 : 30_000)]);
    }
  }, 60_000);
});
