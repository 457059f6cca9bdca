/**
 * `pnpm bench:security`: what security costs (issue "Security", benchmark):
 * read and search throughput with HEARTH_AUTH=on (a bearer token verified on
 * every request, scopes, the legitimate-relationship check on every resource,
 * an AuditEvent per request per patient, committed before the answer) against
 * HEARTH_AUTH=off, on the same data, in alternating rounds (the server is
 * restarted between modes). The caller is the demo community nurse
 * (sam.okafor, signed in with PKCE), whose team has `--caseload` patients on
 * its caseload among `--patients` patients with `--observations` each.
 * Each mode is measured at several numbers of concurrent clients; its
 * throughput is the most it serves at any of them (its capacity), and the
 * target is on that: security costs under 30% of throughput. The figures at
 * each level are reported too (at few clients the audit commit's wait shows).
 * Options: --patients 2000, --caseload 200, --observations 10, --concurrency 8,32,64,
 * --duration s (10), --rounds 2, --label name ("latest"), --no-docs, --data-dir folder
 * (kept for the next run, seeded only when new), --scenarios read,search (e.g. one of them
 * under a profiler: HEARTH_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=folder").
 * Besides throughput, each measurement gives the CPU time the server and PostgreSQL
 * spent per request (ms): what security adds to it is the figure the machine's
 * other work disturbs least.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { embeddedDatabaseUrl } from '@hearth/server/store/database';
import { userToken } from '@hearth/server/auth/sign-in-client';
import { runLoad, type LoadResult } from '../load.ts';
import { machineInfo } from '../machine.ts';
import { updateDocs } from '../report.ts';
import { startHearth, type Hearth } from '../search/hearth.ts';

const DOCS = new URL('../../../docs/benchmarks.md', import.meta.url);

const SCENARIOS = {
  read: (p: number) => `/fhir/Patient/bench-p${p}`,
  search: (p: number) => `/fhir/Observation?subject=Patient/bench-p${p}&code=http://loinc.org|8867-4&_count=10`,
};
type Scenario = keyof typeof SCENARIOS;

function options() {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const { values: v } = parseArgs({
    args,
    options: {
      patients: { type: 'string', default: '2000' },
      caseload: { type: 'string', default: '200' },
      observations: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8,32,64' },
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      label: { type: 'string', default: 'latest' },
      'no-docs': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      scenarios: { type: 'string', default: Object.keys(SCENARIOS).join(',') },
    },
  });
  return {
    patients: Number(v.patients),
    caseload: Number(v.caseload),
    observations: Number(v.observations),
    concurrency: v.concurrency!.split(',').map(Number),
    duration: Number(v.duration),
    rounds: Number(v.rounds),
    label: v.label!,
    docs: !v['no-docs'],
    dataDir: v['data-dir'],
    scenarios: v.scenarios!.split(',').map((name) => {
      if (!(name in SCENARIOS)) throw new Error(`unknown scenario "${name}" (${Object.keys(SCENARIOS).join(', ')})`);
      return name as Scenario;
    }),
  };
}

type Options = ReturnType<typeof options>;

/** Patients (the first `caseload` on the demo team's caseload), each with observations: transactions of 100. */
async function seed(origin: string, o: Options): Promise<void> {
  const entries: object[] = [];
  for (let p = 0; p < o.patients; p++) {
    const patient = `bench-p${p}`;
    entries.push(put({ resourceType: 'Patient', id: patient, name: [{ family: `Bench${p}`, given: ['Pat'] }] }));
    if (p < o.caseload) {
      entries.push(
        put({
          resourceType: 'EpisodeOfCare',
          id: `bench-ep${p}`,
          status: 'active',
          patient: { reference: `Patient/${patient}` },
          team: [{ reference: 'CareTeam/demo-neighbourhood-team' }],
        }),
      );
    }
    for (let i = 0; i < o.observations; i++) {
      entries.push(
        put({
          resourceType: 'Observation',
          id: `bench-o${p}-${i}`,
          status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
          subject: { reference: `Patient/${patient}` },
          effectiveDateTime: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
          valueQuantity: { value: 60 + i, unit: '/min' },
        }),
      );
    }
  }
  for (let i = 0; i < entries.length; i += 100) {
    const res = await fetch(`${origin}/fhir`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries.slice(i, i + 100) }),
    });
    if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
  }
}

function put(resource: { resourceType: string; id: string; [key: string]: unknown }) {
  return { resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

/** Signs the demo nurse in as the web client does (authorization code + PKCE). */
function nurseToken(origin: string, dataDir: string): Promise<string> {
  const passwords = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-users.json'), 'utf8')) as Record<
    string,
    string
  >;
  return userToken(`${origin}/fhir`, 'sam.okafor', passwords['sam.okafor'], 'user/*.rs');
}

async function measure(
  hearth: Hearth,
  scenario: Scenario,
  token: string | undefined,
  o: Options,
  connections: number,
  duration = o.duration,
): Promise<LoadResult> {
  const requests = Array.from({ length: o.caseload }, (_, p) => ({
    method: 'GET' as const,
    path: SCENARIOS[scenario](p),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  }));
  const r = await runLoad({
    url: hearth.origin,
    connections,
    durationSeconds: duration,
    requests,
    serverPid: hearth.pid,
  });
  const failed = Object.values(r.failures).reduce((a, b) => a + b, 0) + r.errors;
  if (failed)
    throw new Error(`${scenario} (auth ${token ? 'on' : 'off'}): ${failed} failed ${JSON.stringify(r.failures)}`);
  return r;
}

/** Where the CPU went (cores), when it could be measured, and the server's and PostgreSQL's per request. */
function cpuText(r: LoadResult): string {
  if (!r.cpu) return '';
  const { server, postgres, loadGenerator, other, idle } = r.cpu;
  const perRequest = cpuPerRequest(r)!;
  return `; cores: server ${server.toFixed(2)}, postgres ${postgres.toFixed(2)}, load ${loadGenerator.toFixed(2)}, other ${other.toFixed(2)}, idle ${idle.toFixed(2)}; CPU ms per request: server ${perRequest.server.toFixed(3)}, postgres ${perRequest.postgres.toFixed(3)}`;
}

/** CPU milliseconds the server and PostgreSQL spent per request answered. */
function cpuPerRequest(r: LoadResult): { server: number; postgres: number } | undefined {
  if (!r.cpu || !r.ok) return undefined;
  const ms = (cores: number) => (cores * r.durationSeconds * 1000) / r.ok;
  return { server: ms(r.cpu.server), postgres: ms(r.cpu.postgres) };
}

async function withHearth<T>(dataDir: string, auth: boolean, fn: (h: Hearth) => Promise<T>): Promise<T> {
  process.env.HEARTH_AUTH = auth ? 'on' : 'off';
  // The load is one client far above any per-client limit: measured without rate limiting.
  process.env.HEARTH_RATE_LIMIT = '0';
  const hearth = await startHearth(dataDir, embeddedDatabaseUrl);
  try {
    return await fn(hearth);
  } finally {
    await hearth.stop();
  }
}

async function main(): Promise<void> {
  const o = options();
  // --data-dir keeps the seeded data for another run (seeded only when the folder is new).
  const keep = !!o.dataDir;
  const seeded = keep && fs.existsSync(path.join(o.dataDir!, 'pg'));
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-security-'));
  fs.mkdirSync(dataDir, { recursive: true });
  fs.chmodSync(dataDir, 0o755);
  // Per scenario, mode and concurrency: the rounds' results.
  const results = new Map<string, LoadResult[]>();
  const key = (scenario: Scenario, auth: boolean, connections: number) => `${scenario}|${auth}|${connections}`;
  try {
    if (!seeded)
      await withHearth(dataDir, false, async (h) => {
        await seed(h.origin, o);
        // Fresh planner statistics, as autovacuum would have them a minute after a load this size.
        const db = new pg.Client({ connectionString: h.databaseUrl });
        await db.connect();
        await db.query('ANALYZE');
        await db.end();
      });
    console.log(`seeded ${o.patients} patients, ${o.caseload} on the caseload, ${o.observations} observations each`);
    for (let round = 0; round < o.rounds; round++) {
      for (const auth of [false, true]) {
        await withHearth(dataDir, auth, async (h) => {
          const token = auth ? await nurseToken(h.origin, dataDir) : undefined;
          for (const scenario of o.scenarios) {
            await measure(h, scenario, token, o, o.concurrency[0], 2); // warm-up
            for (const connections of o.concurrency) {
              const r = await measure(h, scenario, token, o, connections);
              const k = key(scenario, auth, connections);
              results.set(k, [...(results.get(k) ?? []), r]);
              console.log(
                `round ${round + 1}, auth ${auth ? 'on' : 'off'}, ${scenario}, ${connections} clients: ${r.requestsPerSecond.toFixed(0)}/s, p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms${cpuText(r)}`,
              );
            }
          }
        });
      }
    }
  } finally {
    delete process.env.HEARTH_AUTH;
    delete process.env.HEARTH_RATE_LIMIT;
    if (!keep) fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const median = (xs: LoadResult[]) =>
    [...xs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(xs.length / 2)];
  const machine = machineInfo();
  const fmt = (x: number) => x.toFixed(0);
  const pct = (cost: number) => `${(cost * 100).toFixed(1)}%`;
  // CPU per request: the median of the rounds' server and PostgreSQL figures (each on its own).
  const cpu = (xs: LoadResult[]) => {
    const per = xs.map(cpuPerRequest).filter((c) => c !== undefined);
    if (!per.length) return '–';
    const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const server = mid(per.map((c) => c.server));
    const postgres = mid(per.map((c) => c.postgres));
    return `${server.toFixed(3)} + ${postgres.toFixed(3)}`;
  };
  const rows = o.scenarios.flatMap((scenario) => {
    const levels = o.concurrency.map((connections) => ({
      connections,
      off: median(results.get(key(scenario, false, connections))!),
      on: median(results.get(key(scenario, true, connections))!),
      cpuOff: cpu(results.get(key(scenario, false, connections))!),
      cpuOn: cpu(results.get(key(scenario, true, connections))!),
    }));
    const perLevel = levels.map(({ connections, off, on, cpuOff, cpuOn }) => {
      const cost = 1 - on.requestsPerSecond / off.requestsPerSecond;
      return `| ${scenario} | ${connections} | ${fmt(off.requestsPerSecond)} | ${fmt(on.requestsPerSecond)} | ${pct(cost)} | ${on.latencyMs.p50.toFixed(1)} / ${on.latencyMs.p99.toFixed(1)} | ${off.latencyMs.p50.toFixed(1)} / ${off.latencyMs.p99.toFixed(1)} | ${cpuOff} | ${cpuOn} | |`;
    });
    const best = (mode: 'off' | 'on') => Math.max(...levels.map((l) => l[mode].requestsPerSecond));
    const cost = 1 - best('on') / best('off');
    const capacity = `| **${scenario}: throughput** | best | **${fmt(best('off'))}** | **${fmt(best('on'))}** | **${pct(cost)}** | | | | | **${cost < 0.3 ? 'pass' : 'MISS'}** |`;
    return [...perLevel, capacity];
  });
  const block = [
    `#### ${o.label} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM; Node ${machine.node}; embedded PostgreSQL on the same machine; load generator (autocannon ${machine.autocannon}) on the same machine`,
    `- Data: ${o.patients} patients with ${o.observations} observations each; ${o.caseload} of them on the demo team's caseload; the caller is the demo nurse (user/*.rs), who may see exactly those; ANALYZE after loading`,
    `- Load: ${o.concurrency.join(', ')} concurrent clients, ${o.duration} s per measurement after a 2 s warm-up, ${o.rounds} rounds alternating off/on (server restarted per mode); each request names one caseload patient in turn`,
    '- "on": HEARTH_AUTH=on (token verified, scopes, relationship check, AuditEvents committed before the answer; rate limiting off, HEARTH_RATE_LIMIT=0); "off": none of it',
    '',
    '- Throughput: the most each mode served at any of the client counts (the median of the rounds at each); the target is on it',
    "- CPU ms / request: CPU time of the server + PostgreSQL per request answered (the median of the rounds); what the machine's other work disturbs least",
    '',
    '| scenario | clients | off req/s | on req/s | cost | on p50 / p99 ms | off p50 / p99 ms | off CPU ms / req | on CPU ms / req | target < 30% |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
  console.log(`\n${block}`);
  if (o.docs) {
    updateDocs(DOCS, o.label, block, 'security', 'Security cost results');
    console.log('\nresults written to docs/benchmarks.md');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('\nsecurity benchmark failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
