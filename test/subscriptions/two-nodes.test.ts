/**
 * Two Hearth nodes over one database (issue 6, Tests: "two-node test";
 * STANDARDS.md §4.2, "Not losing events"):
 * - their delivery workers share the work (claims with FOR UPDATE SKIP
 *   LOCKED and a lease), so when nothing fails each rest-hook event reaches
 *   the receiver exactly once, in order, whichever node took the write; a
 *   transaction's events are numbered one after another;
 * - a Subscription written on one node is matched by writes on the other
 *   (registry reload on NOTIFY), also by a write made as soon as the
 *   Subscription's creation was answered, and no longer once it is off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FHIR_JSON, putAll, startTestServer, type TestServer } from '../support/server.ts';
import { acceptedNumbers, seenEvents, startFaultReceiver, type FaultReceiver } from '../support/fault-receiver.ts';
import { statusValue } from '../support/receiver.ts';
import { uniqueValue } from '../support/resources.ts';
import {
  assignTask,
  eventNumbers,
  subscribe,
  subscriptionStatus,
  taskAssignedSubscription,
  waitForSubscriptionStatus,
} from '../support/subscriptions.ts';

const ENV = { HEARTH_SUBSCRIPTION_LOOPBACK: 'on', HEARTH_SUBSCRIPTION_RETRY_MS: '50' };

let a: TestServer;
let b: TestServer;
let receiver: FaultReceiver;

beforeAll(async () => {
  a = await startTestServer(ENV);
  b = await startTestServer(ENV, a.databaseUrl);
  receiver = await startFaultReceiver();
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await receiver?.close();
});

describe('two nodes over one database (issue 6)', () => {
  it('delivers each event of each subscription exactly once across the fleet, in order, whichever node took the write', async () => {
    const owner = `Organization/${uniqueValue('fleet')}`;
    // Several subscriptions on the same events, created on both nodes: both workers have work to claim.
    const subs: string[] = [];
    for (const node of [a, b, a, b])
      subs.push((await subscribe(node.http, taskAssignedSubscription(receiver.url, owner))).id!);
    for (const id of subs) await waitForSubscriptionStatus(a.http, id, 'active');
    // Writes through both nodes, two at a time; each write is one event for every subscription.
    const tasks: string[] = [];
    for (let i = 0; i < 12; i++) {
      const ids = await Promise.all([assignTask(a.http, owner), assignTask(b.http, owner)]);
      tasks.push(...ids);
    }
    // Then a transaction of three Tasks through each node at once: each takes three numbers in a row.
    const bundles = [a, b].map(() => [0, 1, 2].map(() => uniqueValue('bundled')));
    await Promise.all(
      [a, b].map((node, i) =>
        putAll(
          node,
          node.token!,
          bundles[i].map((id) => ({
            resourceType: 'Task',
            id,
            status: 'requested',
            intent: 'order',
            owner: { reference: owner },
          })),
        ),
      ),
    );
    tasks.push(...bundles.flat());
    const total = tasks.length;
    await receiver.waitUntil(
      () => subs.every((id) => acceptedNumbers(receiver.arrivals, id).size >= total),
      `${total} events for each of ${subs.length} subscriptions`,
      40_000,
    );
    // Both workers tick every second: a second delivery of anything would have come by now.
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of subs) {
      const seen = seenEvents(receiver.arrivals, id);
      expect(
        seen.map((e) => e.number),
        `Subscription/${id}`,
      ).toEqual(eventNumbers(1, total));
      expect(new Set(seen.map((e) => e.focus))).toEqual(new Set(tasks.map((t) => `Task/${t}`)));
      expect(seen.every((e) => e.answered === 200)).toBe(true);
      const numberOf = new Map(seen.map((e) => [e.focus, e.number]));
      for (const bundle of bundles) {
        const numbers = bundle.map((t) => numberOf.get(`Task/${t}`)!).sort((x, y) => x - y);
        expect(numbers, `a transaction's events (Subscription/${id})`).toEqual(
          eventNumbers(numbers[0], numbers[0] + 2),
        );
      }
    }
    // The handshakes too went once each.
    const handshakes = receiver.arrivals
      .filter((r) => r.body && statusValue(r.body, 'type') === 'handshake')
      .map((r) => statusValue(r.body, 'subscription')!.split('/').pop()!)
      .filter((id) => subs.includes(id));
    expect(handshakes.sort()).toEqual([...subs].sort());
    // Event numbers follow the order the writes committed: the same for every subscription.
    const orders = subs.map((id) => seenEvents(receiver.arrivals, id).map((e) => e.focus));
    for (const order of orders.slice(1)) expect(order).toEqual(orders[0]);
  }, 90_000);

  it('matches writes on node B against a Subscription created on node A, and stops when A switches it off', async () => {
    for (const [here, there] of [
      [a, b],
      [b, a],
    ]) {
      const owner = `Organization/${uniqueValue('cross')}`;
      const id = (await subscribe(here.http, taskAssignedSubscription(receiver.url, owner))).id!;
      await waitForSubscriptionStatus(here.http, id, 'active');
      const first = await assignTask(there.http, owner);
      await receiver.waitUntil(() => acceptedNumbers(receiver.arrivals, id).has(1), `event 1 of ${id}`);
      expect(seenEvents(receiver.arrivals, id)).toMatchObject([{ number: 1, focus: `Task/${first}` }]);

      // Off on this node: the other stops matching (events are numbered only for subscriptions not off).
      const current = (await here.http.get(`/fhir/Subscription/${id}`)).body;
      const off = await here.http
        .put(`/fhir/Subscription/${id}`)
        .set('Content-Type', FHIR_JSON)
        .send({ ...current, status: 'off' });
      expect(off.status).toBe(200);
      // Events are numbered in the write's transaction: $status tells at once whether it matched.
      await assignTask(there.http, owner);
      expect(await subscriptionStatus(here.http, id)).toEqual({ status: 'off', events: '1' });
      expect(seenEvents(receiver.arrivals, id)).toHaveLength(1);
    }
  }, 60_000);

  it('matches a write on node B made as soon as node A has answered the Subscription it created', async () => {
    // The client has its 201 from A: a change it then makes through B is after the subscription, so it is an event.
    const missed: string[] = [];
    for (let i = 0; i < 10; i++) {
      const owner = `Organization/${uniqueValue('race')}`;
      const id = (await subscribe(a.http, taskAssignedSubscription(receiver.url, owner))).id!;
      const task = await assignTask(b.http, owner);
      const { events } = await subscriptionStatus(a.http, id);
      if (events !== '1') missed.push(`Task/${task} (Subscription/${id}: ${events} events)`);
    }
    expect(missed).toEqual([]);
  }, 60_000);
});
