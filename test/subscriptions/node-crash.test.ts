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
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestServer } from '../support/server.ts';
import { freePort } from '../support/ports.ts';
import { registerSystem, systemToken } from '../support/auth.ts';
import { seenEvents, startFaultReceiver, type FaultReceiver } from '../support/fault-receiver.ts';
import { eventsOf, statusValue } from '../support/receiver.ts';
import { uniqueValue } from '../support/resources.ts';
import {
  assignTask,
  subscribe,
  taskAssignedSubscription,
  waitForSubscriptionStatus,
} from '../support/subscriptions.ts';

const serverDir = fileURLToPath(new URL('../../server/', import.meta.url));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-subscription-crash-'));
fs.chmodSync(dataDir, 0o755);
const children: ChildProcess[] = [];
let receiver: FaultReceiver | undefined;
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await receiver?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Hearth as its own process (src/main.ts) over `databaseUrl`, answering on `port`. */
async function start(databaseUrl: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      HEARTH_DATA_DIR: dataDir,
      HEARTH_RATE_LIMIT: '0',
      HEARTH_DB_POOL_SIZE: '8',
      HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
      HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS: '1',
      HEARTH_SUBSCRIPTION_RETRY_MS: '50',
      HEARTH_SUBSCRIPTION_MAX_FAILURES: '50',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (const began = Date.now(); !out.includes('Hearth is running'); ) {
    if (child.exitCode !== null || Date.now() - began > 120_000) throw new Error(`server did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a node killed mid-delivery', () => {
  it('sends the delivery in flight again after a restart, loses nothing, and numbers on without a gap', async () => {
    const r = await startFaultReceiver();
    receiver = r;
    const databaseUrl = await createTestDatabase();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const first = await start(databaseUrl, port);
    const http = supertest.agent(origin);
    const s = { databaseUrl, baseUrl: `${origin}/fhir`, http } as unknown as TestServer;
    const client = await registerSystem(s, { clientId: 'crash-test', scope: 'system/*.cruds', allPatients: true });
    // Issued for the base URL, signed with the key in the database: the restarted server (same port) accepts it.
    http.set('Authorization', `Bearer ${await systemToken(s, client, 'system/*.cruds')}`);

    const owner = `Organization/${uniqueValue('crash')}`;
    const id = (await subscribe(http, taskAssignedSubscription(r.url, owner))).id!;
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
    expect(accepted().map((e) => e.number)).toEqual(range(1, 8));
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
