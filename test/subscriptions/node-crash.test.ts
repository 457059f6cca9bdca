/**
 * A server process killed (SIGKILL) in the middle of a delivery, then
 * started again (issue 6, Tests: "server process killed mid-delivery and
 * restarted"; STANDARDS.md §4.2: delivery is at least once, clients detect
 * duplicates and gaps by event number): the notification in flight when the
 * process died is sent again once the dead node's lease runs out
 * (HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS=1: lease 1*2+10 s), with the same
 * event number and idempotency key; nothing is lost, nothing else is sent
 * twice, and numbering goes on without a gap after the restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/server.ts';
import { freePort } from '../support/ports.ts';
import { processAgent, startServerProcess, type ServerProcess } from '../support/server-process.ts';
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
  HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS: '1',
  HEARTH_SUBSCRIPTION_RETRY_MS: '50',
  HEARTH_SUBSCRIPTION_MAX_FAILURES: '50',
};
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-subscription-crash-'));
fs.chmodSync(dataDir, 0o755);
const processes: ServerProcess[] = [];
let receiver: FaultReceiver | undefined;
afterAll(async () => {
  for (const p of processes) if (p.alive()) p.child.kill('SIGKILL');
  await receiver?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function start(databaseUrl: string, port: number): Promise<ServerProcess> {
  const p = await startServerProcess(databaseUrl, port, dataDir, ENV);
  processes.push(p);
  return p;
}

describe('a node killed mid-delivery', () => {
  it('sends the delivery in flight again after a restart, loses nothing, and numbers on without a gap', async () => {
    const r = await startFaultReceiver();
    receiver = r;
    const databaseUrl = await createTestDatabase();
    const port = await freePort();
    const first = (await start(databaseUrl, port)).child;
    // The restarted process (same port, same database) accepts the same token.
    const http = await processAgent(databaseUrl, port, 'crash-test');

    const owner = `Organization/${uniqueValue('crash')}`;
    // One event per notification: the one in flight at the kill is event 4 alone.
    const id = (await subscribe(http, taskAssignedSubscription(r.url, owner, 1))).id!;
    await waitForSubscriptionStatus(http, id, 'active');
    const tasks: string[] = [];
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) tasks.push(await assignTask(http, owner));
    };
    const accepted = () => seenEvents(r.arrivals, id).filter((e) => e.answered === 200);

    await write(3);
    await r.waitUntil(() => accepted().length === 3, 'events 1-3');
    // Three more while the receiver is down, so they are waiting when it comes back.
    await r.down();
    await write(3);
    // Back, but holding what arrives: the first delivery to arrive is in flight when the process is killed.
    const exited = new Promise((resolve) => first.once('exit', resolve));
    r.answer = 'hold';
    r.onArrival = () => {
      first.kill('SIGKILL');
      r.onArrival = undefined;
    };
    await r.up();
    await exited;
    const inFlight = seenEvents(r.arrivals, id).filter((e) => e.answered === 'held');
    expect(inFlight.map((e) => e.number)).toEqual([4]);

    r.answer = 200;
    await start(databaseUrl, port);
    // The dead node's lease runs out (12 s), then the new one sends 4, 5 and 6.
    await r.waitUntil(() => accepted().length >= 6, 'events 4-6 after the restart', 45_000);
    await write(2);
    await r.waitUntil(() => accepted().length >= 8, 'events 7-8', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // time for anything sent twice to show

    // Everything arrived, each accepted once, in order, numbered 1..8.
    expect(accepted().map((e) => e.number)).toEqual(eventNumbers(1, 8));
    expect(accepted().map((e) => e.focus)).toEqual(tasks.map((t) => `Task/${t}`));
    // The only number seen twice is the one in flight, the second time with the same idempotency key.
    const seen = seenEvents(r.arrivals, id);
    expect(seen.map((e) => e.number)).toEqual([1, 2, 3, 4, 4, 5, 6, 7, 8]);
    expect(seen.filter((e) => e.number === 4).map((e) => e.key)).toEqual([inFlight[0].key, inFlight[0].key]);
    // The outbox agrees: eight events, the subscription still active.
    const replay = await http.get(`/fhir/Subscription/${id}/$events?eventsSinceNumber=1`);
    expect(replay.status).toBe(200);
    expect(eventsOf(replay.body)).toEqual(tasks.map((t, i) => ({ number: i + 1, focus: `Task/${t}` })));
    expect(statusValue(replay.body, 'events-since-subscription-start')).toBe('8');
    expect(statusValue(replay.body, 'status')).toBe('active');
  }, 150_000);
});
