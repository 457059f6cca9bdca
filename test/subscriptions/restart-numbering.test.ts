/**
 * Event numbers across server restarts (STANDARDS.md §4, Testable
 * requirements: "Event numbers are strictly increasing and gap-free per
 * subscription across server restarts"; issue 6, Tests): a server is stopped
 * (with events still undelivered, the receiver being down), a new one starts
 * on the same database and writing goes on, twice; numbering continues where
 * it stood, what the first left undelivered is delivered by the next, and
 * $events and $status agree with what the receiver got.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { seenEvents, startFaultReceiver, type FaultReceiver } from '../support/fault-receiver.ts';
import { eventsOf, statusValue } from '../support/receiver.ts';
import { uniqueValue } from '../support/resources.ts';
import {
  assignTask,
  eventNumbers,
  subscribe,
  taskAssignedSubscription,
  waitForSubscriptionStatus,
} from '../support/subscriptions.ts';

const ENV = {
  HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
  HEARTH_SUBSCRIPTION_RETRY_MS: '50',
  HEARTH_SUBSCRIPTION_MAX_FAILURES: '50',
};

let receiver: FaultReceiver;
let server: TestServer | undefined;

beforeAll(async () => {
  receiver = await startFaultReceiver();
});
afterAll(async () => {
  await server?.close();
  await receiver?.close();
});

describe('event numbers across server restarts', () => {
  it('continues numbering without gaps or repeats through stop and start, delivering what was left undelivered', async () => {
    server = await startTestServer(ENV);
    const databaseUrl = server.databaseUrl;
    const owner = `Organization/${uniqueValue('restart')}`;
    const id = (await subscribe(server.http, taskAssignedSubscription(receiver.url, owner))).id!;
    await waitForSubscriptionStatus(server.http, id, 'active');
    const tasks: string[] = [];
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) tasks.push(await assignTask(server!.http, owner));
    };
    const accepted = () => seenEvents(receiver.arrivals, id).filter((e) => e.answered === 200);
    const waitForAll = () =>
      receiver.waitUntil(() => accepted().length >= tasks.length, `events 1-${tasks.length}`, 30_000);

    await write(3);
    await waitForAll();
    // Two more while the receiver is down; then the server stops with them undelivered.
    await receiver.down();
    await write(2);
    await server.close();
    server = undefined;
    await receiver.up();

    server = await startTestServer(ENV, databaseUrl);
    await write(3);
    await waitForAll();
    await server.close();
    server = undefined;

    server = await startTestServer(ENV, databaseUrl);
    await write(2);
    await waitForAll();
    await new Promise((r) => setTimeout(r, 1500)); // time for anything sent twice to show

    const total = tasks.length;
    expect(accepted().map((e) => e.number)).toEqual(eventNumbers(1, total));
    expect(accepted().map((e) => e.focus)).toEqual(tasks.map((t) => `Task/${t}`));
    const replay = await server.http.get(`/fhir/Subscription/${id}/$events?eventsSinceNumber=1`);
    expect(replay.status).toBe(200);
    expect(eventsOf(replay.body)).toEqual(tasks.map((t, i) => ({ number: i + 1, focus: `Task/${t}` })));
    expect(statusValue(replay.body, 'events-since-subscription-start')).toBe(String(total));
    expect(statusValue(replay.body, 'status')).toBe('active');
  }, 120_000);
});
