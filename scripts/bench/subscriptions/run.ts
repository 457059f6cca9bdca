/**
 * `pnpm bench:subscriptions`: commit-to-delivery latency of subscription
 * notifications (issue "Subscriptions", benchmark): Hearth as `pnpm start`
 * runs it (embedded PostgreSQL, security on), `--subscriptions` active
 * topic subscriptions (task-assigned, each filtered on its own owner;
 * `--websockets` of them on the websocket channel, bound on one socket, the
 * rest rest-hook to a receiver in this process), and Tasks written at a fixed
 * rate (open loop) for `--duration` seconds at each of `--rates`. Each write
 * is one event of one subscription. Latency = when the notification arrived
 * here - the event's timestamp (the write's time, stamped just before its
 * commit): commit to delivery, a little over. Every event must arrive.
 * Options: --rates 100,500 --duration 20 --subscriptions 100 --websockets 10
 * --label latest --no-docs.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { embeddedDatabaseUrl } from '@hearth/server/store/database';
import { userToken } from '@hearth/server/auth/sign-in-client';
import { machineInfo } from '../machine.ts';
import { updateDocs } from '../report.ts';
import { startHearth } from '../search/hearth.ts';

const DOCS = new URL('../../../docs/benchmarks.md', import.meta.url);
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/task-assigned';
const MAX_IN_FLIGHT = 256;

function options() {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const { values: v } = parseArgs({
    args,
    options: {
      rates: { type: 'string', default: '100,500' },
      duration: { type: 'string', default: '20' },
      subscriptions: { type: 'string', default: '100' },
      websockets: { type: 'string', default: '10' },
      label: { type: 'string', default: 'latest' },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  return {
    rates: v.rates!.split(',').map(Number),
    duration: Number(v.duration),
    subscriptions: Number(v.subscriptions),
    websockets: Number(v.websockets),
    label: v.label!,
    docs: !v['no-docs'],
  };
}

interface Arrival {
  channel: 'rest-hook' | 'websocket';
  latencyMs: number;
  subscription: string;
  number: number;
}

/** The events of a notification Bundle: subscription, number, timestamp. */
function eventsOf(bundle: { entry?: { resource?: { parameter?: Param[] } }[] }) {
  const params = bundle.entry?.[0]?.resource?.parameter ?? [];
  const subscription = params.find((p) => p.name === 'subscription')?.valueReference?.reference ?? '';
  const type = params.find((p) => p.name === 'type')?.valueCode;
  return type !== 'event-notification'
    ? []
    : params
        .filter((p) => p.name === 'notification-event')
        .map((p) => ({
          subscription: subscription.split('/').pop()!,
          number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString),
          timestamp: Date.parse(p.part?.find((x) => x.name === 'timestamp')?.valueInstant ?? ''),
        }));
}
interface Param {
  name: string;
  valueCode?: string;
  valueString?: string;
  valueInstant?: string;
  valueReference?: { reference?: string };
  part?: Param[];
}

async function startReceiver(arrivals: Arrival[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      res.writeHead(200).end();
      if (!chunks.length) return;
      for (const e of eventsOf(JSON.parse(Buffer.concat(chunks).toString('utf8')))) {
        arrivals.push({
          channel: 'rest-hook',
          latencyMs: now - e.timestamp,
          subscription: e.subscription,
          number: e.number,
        });
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function fhir(origin: string, token: string, method: string, url: string, body?: unknown) {
  const res = await fetch(`${origin}/fhir/${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return { res, body: text ? JSON.parse(text) : undefined };
}

function subscription(i: number, channel: 'rest-hook' | 'websocket', endpoint: string) {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'benchmark',
    criteria: TOPIC,
    _criteria: {
      extension: [
        { url: `${BACKPORT}backport-filter-criteria`, valueString: `Task?owner=Organization/bench-team-${i}` },
      ],
    },
    channel: {
      type: channel,
      ...(channel === 'rest-hook' ? { endpoint } : {}),
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'id-only' }] },
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface RateResult {
  rate: number;
  achieved: number;
  written: number;
  failed: number;
  byChannel: Record<
    string,
    { expected: number; delivered: number; duplicates: number; p50: number; p95: number; p99: number; max: number }
  >;
}

/** Writes Tasks at `rate` per second for `duration` s (open loop), then waits for every event. */
async function runRate(
  origin: string,
  token: string,
  rate: number,
  duration: number,
  subscriptions: { id: string; channel: 'rest-hook' | 'websocket' }[],
  arrivals: Arrival[],
): Promise<RateResult> {
  arrivals.length = 0;
  const expected = new Map<string, number>();
  let written = 0;
  let failed = 0;
  let inFlight = 0;
  let sent = 0;
  const total = rate * duration;
  const start = Date.now();
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
      while (sent < due && inFlight < MAX_IN_FLIGHT) {
        const k = sent++;
        const target = subscriptions[k % subscriptions.length];
        inFlight++;
        pending.push(
          fhir(origin, token, 'POST', 'Task', {
            resourceType: 'Task',
            status: 'requested',
            intent: 'order',
            owner: { reference: `Organization/bench-team-${k % subscriptions.length}` },
          })
            .then(() => {
              written++;
              expected.set(target.channel, (expected.get(target.channel) ?? 0) + 1);
            })
            .catch(() => {
              failed++;
            })
            .finally(() => {
              inFlight--;
            }),
        );
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await Promise.all(pending);
  const elapsed = (Date.now() - start) / 1000;
  const want = [...expected.values()].reduce((a, b) => a + b, 0);
  const unique = () => new Set(arrivals.map((a) => `${a.subscription}:${a.number}`)).size;
  for (let waited = 0; unique() < want && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const byChannel: RateResult['byChannel'] = {};
  for (const channel of ['rest-hook', 'websocket'] as const) {
    const mine = arrivals.filter((a) => a.channel === channel);
    const seen = new Set(mine.map((a) => `${a.subscription}:${a.number}`));
    const latencies = mine.map((a) => a.latencyMs).sort((a, b) => a - b);
    byChannel[channel] = {
      expected: expected.get(channel) ?? 0,
      delivered: seen.size,
      duplicates: mine.length - seen.size,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
    };
  }
  return { rate, achieved: written / elapsed, written, failed, byChannel };
}

async function main(): Promise<void> {
  const o = options();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-subscriptions-'));
  fs.chmodSync(dataDir, 0o755);
  process.env.HEARTH_AUTH = 'on';
  process.env.HEARTH_RATE_LIMIT = '0';
  const arrivals: Arrival[] = [];
  const receiver = await startReceiver(arrivals);
  const hearth = await startHearth(dataDir, embeddedDatabaseUrl);
  let socket: WebSocket | undefined;
  const results: RateResult[] = [];
  try {
    const passwords = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-users.json'), 'utf8')) as Record<
      string,
      string
    >;
    const token = await userToken(`${hearth.origin}/fhir`, 'sam.okafor', passwords['sam.okafor'], 'user/*.cruds');
    const subscriptions: { id: string; channel: 'rest-hook' | 'websocket' }[] = [];
    for (let i = 0; i < o.subscriptions; i++) {
      const channel = i >= o.subscriptions - o.websockets ? 'websocket' : 'rest-hook';
      const { res } = await fhir(hearth.origin, token, 'POST', 'Subscription', subscription(i, channel, receiver.url));
      subscriptions.push({ id: res.headers.get('location')!.split('/Subscription/')[1].split('/')[0], channel });
    }
    const sockets = subscriptions.filter((s) => s.channel === 'websocket');
    if (sockets.length) {
      const ids = sockets.map((s) => `id=${s.id}`).join('&');
      const binding = await fetch(`${hearth.origin}/fhir/Subscription/$get-ws-binding-token?${ids}`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.json() as Promise<{ parameter: { name: string; valueString?: string; valueUrl?: string }[] }>);
      const value = (name: string) => binding.parameter.find((p) => p.name === name);
      socket = new WebSocket(value('websocket-url')!.valueUrl!);
      await new Promise((resolve, reject) => socket!.once('open', resolve).once('error', reject));
      socket.on('message', (data) => {
        const now = Date.now();
        const text = data.toString();
        if (!text.startsWith('{')) return;
        for (const e of eventsOf(JSON.parse(text))) {
          arrivals.push({
            channel: 'websocket',
            latencyMs: now - e.timestamp,
            subscription: e.subscription,
            number: e.number,
          });
        }
      });
      socket.send(`bind-with-token ${value('token')!.valueString}`);
    }
    // Every rest-hook subscription active (handshake done) before measuring.
    for (let waited = 0; ; waited += 200) {
      const status = await fhir(hearth.origin, token, 'GET', 'Subscription/$status?status=active');
      if ((status.body.total as number) >= o.subscriptions) break;
      if (waited > 60_000) throw new Error(`only ${status.body.total} subscriptions became active`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await runRate(hearth.origin, token, 50, 3, subscriptions, arrivals); // warm-up
    for (const rate of o.rates) {
      const r = await runRate(hearth.origin, token, rate, o.duration, subscriptions, arrivals);
      results.push(r);
      for (const [channel, c] of Object.entries(r.byChannel)) {
        console.log(
          `${rate}/s (achieved ${r.achieved.toFixed(0)}/s, ${r.failed} failed) ${channel}: ${c.delivered}/${c.expected} delivered, ` +
            `${c.duplicates} duplicates, p50 ${c.p50} ms, p95 ${c.p95} ms, p99 ${c.p99} ms, max ${c.max} ms`,
        );
      }
    }
  } finally {
    socket?.close();
    await hearth.stop();
    await receiver.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (!o.docs) return;
  const m = machineInfo();
  const rows = results.flatMap((r) =>
    Object.entries(r.byChannel).map(
      ([channel, c]) =>
        `| ${r.rate}/s | ${r.achieved.toFixed(0)}/s | ${channel} | ${c.delivered} / ${c.expected} | ${c.duplicates} | ${c.p50} | ${c.p95} | ${c.p99} | ${c.max} | ${channel === 'rest-hook' || channel === 'websocket' ? (r.rate >= 500 ? (c.p99 < 250 && c.delivered === c.expected ? 'PASS' : 'MISS') : '') : ''} |`,
    ),
  );
  const block = [
    `#### ${o.label} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}; receiver and load in the same process as the measurement, on the same machine as Hearth and its embedded PostgreSQL`,
    `- Hearth as \`pnpm start\` (HEARTH_AUTH=on, rate limit off), ${o.subscriptions} active task-assigned subscriptions (${o.subscriptions - o.websockets} rest-hook, ${o.websockets} websocket on one socket), id-only; Tasks POSTed by the demo nurse at a fixed rate for ${o.duration} s per rate (open loop, at most ${MAX_IN_FLIGHT} in flight), each one event of one subscription`,
    '- Latency: arrival here - the event timestamp (the write, stamped just before its commit); target p99 < 250 ms at 500 writes/s',
    '',
    '| rate asked | writes achieved | channel | delivered / expected | duplicates | p50 ms | p95 ms | p99 ms | max ms | target |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  updateDocs(DOCS, o.label, block, 'subscriptions', 'Subscription delivery latency');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
