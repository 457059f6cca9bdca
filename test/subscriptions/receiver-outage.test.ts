/**
 * Rest-hook delivery through a receiver outage (issue 6, Tests: "receiver
 * down for a period then back"; STANDARDS.md §4.2 error handling and "Not
 * losing events"): while the receiver refuses connections, and then accepts
 * them but never answers (each attempt times out), Hearth keeps numbering
 * events and retrying with backoff; once the receiver answers again every
 * event arrives, in order, each number once, the numbers contiguous from 1,
 * one per notification or up to backport-max-count per notification, and
 * the subscriptions stay active (the failure budget is not spent).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  acceptedNotifications,
  acceptedNumbers,
  seenEvents,
  startFaultReceiver,
  type FaultReceiver,
} from '../support/fault-receiver.ts';
import { uniqueValue } from '../support/resources.ts';
import {
  assignTask,
  eventNumbers,
  subscribe,
  subscriptionStatus,
  taskAssignedSubscription,
  waitForSubscriptionStatus,
} from '../support/subscriptions.ts';

let s: TestServer;
let receiver: FaultReceiver;
let db: pg.Client;

beforeAll(async () => {
  s = await startTestServer({
    HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
    HEARTH_SUBSCRIPTION_RETRY_MS: '50',
    HEARTH_SUBSCRIPTION_MAX_FAILURES: '50',
    HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS: '1',
  });
  receiver = await startFaultReceiver();
  db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await s?.close();
  await receiver?.close();
});

/** Waits until every subscription's delivery has failed at least `count` times in a row. */
async function waitForFailures(ids: string[], count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await db.query<{ failures: number }>(
      'SELECT failures FROM subscription_delivery WHERE id = ANY($1)',
      [ids],
    );
    if (rows.length === ids.length && rows.every((r) => r.failures >= count)) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} failures, have ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('receiver down for a period, then back (issue 6)', () => {
  it('delivers every event once, in order, numbered 1..n without gaps, and stays active', async () => {
    const owner = `Organization/${uniqueValue('outage')}`;
    const single = (await subscribe(s.http, taskAssignedSubscription(receiver.url, owner, 1))).id!;
    const batched = (await subscribe(s.http, taskAssignedSubscription(receiver.url, owner, 5))).id!;
    for (const id of [single, batched]) await waitForSubscriptionStatus(s.http, id, 'active');
    const tasks: string[] = [];
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) tasks.push(await assignTask(s.http, owner));
    };
    const bothAccepted = (n: number) => () =>
      acceptedNumbers(receiver.arrivals, single).size >= n && acceptedNumbers(receiver.arrivals, batched).size >= n;

    await write(3);
    await receiver.waitUntil(bothAccepted(3), 'events 1-3 before the outage');

    // Down: every attempt is refused.
    await receiver.down();
    await write(6);
    await waitForFailures([single, batched], 3);

    // Listening again but answering nothing: every attempt times out (HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS=1).
    receiver.answer = 'hold';
    await receiver.up();
    await write(3);
    const held = (id: string) => seenEvents(receiver.arrivals, id).filter((e) => e.answered === 'held').length;
    await receiver.waitUntil(() => held(single) > 0 && held(batched) > 0, 'an attempt that times out');

    // Back.
    receiver.answer = 200;
    await write(3);
    const total = tasks.length;
    expect(total).toBe(15);
    await receiver.waitUntil(bothAccepted(total), `all ${total} events after the outage`, 30_000);
    // The worker looks at least every second: anything sent twice would have come by now.
    await new Promise((r) => setTimeout(r, 1500));

    for (const id of [single, batched]) {
      const accepted = seenEvents(receiver.arrivals, id).filter((e) => e.answered === 200);
      // Each number once, in the order of the writes, contiguous from 1.
      expect(
        accepted.map((e) => e.number),
        id,
      ).toEqual(eventNumbers(1, total));
      expect(accepted.map((e) => e.focus)).toEqual(tasks.map((t) => `Task/${t}`));
      expect(await subscriptionStatus(s.http, id)).toEqual({ status: 'active', events: String(total) });
    }
    // Events per accepted notification: the backlog went to the batched subscription up to five at a time.
    const sizes = (id: string) => acceptedNotifications(receiver.arrivals, id).map((numbers) => numbers.length);
    expect(Math.max(...sizes(batched))).toBeGreaterThan(1);
    expect(Math.max(...sizes(batched))).toBeLessThanOrEqual(5);
    expect(new Set(sizes(single))).toEqual(new Set([1]));
  }, 90_000);
});
