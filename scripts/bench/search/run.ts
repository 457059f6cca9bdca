/**
 * `pnpm bench:search`: search latency on a generated neighbourhood (issue
 * "FHIR search engine", benchmark). Loads N people (21 resources each) through
 * the transaction API into a data folder kept between runs (resumable: done
 * batches are recorded in the folder), then measures each scenario at a fixed
 * concurrency: req/s, p50, p95, p99 of successful responses; any non-200 or a
 * scenario answering nothing where it must find something is a failure.
 * Before measuring, tables and indexes are read into PostgreSQL's cache
 * (pg_prewarm): this machine's kernel keeps almost no page cache, so a cold
 * start measures the disk, not the search. Size the cache with
 * HEARTH_PG_SHARED_BUFFERS_MB. Finally EXPLAIN (ANALYZE, BUFFERS) of the
 * slowest scenario's SQL.
 *
 * Options: --people N (50000), --data-dir DIR (os tmp/hearth-search-N),
 * --concurrency 8, --duration s (10), --warmup s (2), --batch people per
 * transaction (20), --parallel transactions in flight (2), --skip-load,
 * --load-only, --label name (docs block, "latest"), --no-docs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDefinitions } from '@hearth/server/fhir/definitions';
import { compileSearch } from '@hearth/server/search/compile';
import { parseSearch } from '@hearth/server/search/parse';
import { embeddedDatabaseUrl } from '@hearth/server/store/database';
import pg from 'pg';
import { NHS_NUMBER_SYSTEM } from '../fixtures.ts';
import { machineInfo } from '../machine.ts';
import { updateDocs } from '../report.ts';
import {
  OBSERVATION_CODES,
  REFERRAL_SYSTEM,
  RESOURCES_PER_PERSON,
  patientId,
  teamId,
  person,
  personEntries,
  sharedEntries,
  taskOwner,
  type Entry,
} from './generate.ts';
import { startHearth, type Hearth } from './hearth.ts';

const DOCS = new URL('../../../docs/benchmarks.md', import.meta.url);

interface Scenario {
  name: string;
  /** Subject to the "selective search p95 < 30 ms" target. */
  selective: boolean;
  /** The request (below /fhir) for person i. */
  query: (i: number) => string;
  /** Its own p95 target in ms (default: 30 for a selective search, none otherwise). */
  targetMs?: number;
  /** An operation, not a search: how many results an answer holds (default: its Bundle entries). */
  results?: (body: Record<string, unknown>) => number;
}

/** The p95 a scenario is held to, if any. */
const targetOf = (s: Pick<Scenario, 'selective' | 'targetMs'>) => s.targetMs ?? (s.selective ? 30 : undefined);

const SCENARIOS: Scenario[] = [
  {
    name: 'patient-by-nhs-number',
    selective: true,
    query: (i) => `Patient?identifier=${NHS_NUMBER_SYSTEM}|${person(i).nhs}`,
  },
  {
    name: 'patient-by-family-birthdate',
    selective: true,
    query: (i) => `Patient?family=${person(i).family}&birthdate=${person(i).birthDate}`,
  },
  {
    name: 'task-worklist',
    selective: true,
    query: (i) =>
      // Person i - i % 5 has a requested first task (generate.ts), so its owner has work to list.
      `Task?owner=Practitioner/${taskOwner(i - (i % 5), 0)}&status=requested,in-progress&_sort=-priority,period&_count=20`,
  },
  {
    name: 'observations-of-patient',
    selective: true,
    query: (i) =>
      `Observation?subject=Patient/${patientId(i)}&code=http://loinc.org|${OBSERVATION_CODES[i % 2][0]}&_sort=-date&_count=20`,
  },
  {
    name: 'referral-include-revinclude',
    selective: true,
    query: (i) =>
      `ServiceRequest?identifier=${REFERRAL_SYSTEM}|R${i}&_include=ServiceRequest:subject&_revinclude=Task:focus`,
  },
  {
    name: 'chained-task-by-nhs',
    selective: true,
    query: (i) => `Task?patient.identifier=${NHS_NUMBER_SYSTEM}|${person(i).nhs}`,
  },
  {
    name: 'has-patient-by-referral',
    selective: true,
    query: (i) => `Patient?_has:ServiceRequest:subject:identifier=${REFERRAL_SYSTEM}|R${i}`,
  },
  {
    // Issue 7 benchmark: a team of 2,000 people (generate.ts: 25 teams), one page, sorted by risk.
    name: 'caseload-2000-by-risk',
    selective: false,
    targetMs: 100,
    query: (i) => `CareTeam/${teamId(i)}/$caseload?_sort=-risk&_count=50`,
    results: (body) =>
      ((body.parameter as { name: string }[] | undefined) ?? []).filter((p) => p.name === 'person').length,
  },
  {
    // Issue 7 benchmark: "my tasks" sorted by the priority score (its reasons computed for the page).
    name: 'my-tasks-by-priority-score',
    selective: false,
    targetMs: 50,
    query: (i) =>
      `Task?owner=Practitioner/${taskOwner(i - (i % 5), 0)}&status=requested,accepted,in-progress,on-hold&_sort=-priority-score&_count=20`,
  },
  {
    name: 'total-accurate-broad',
    selective: false,
    query: (i) => `Task?status=${['requested', 'in-progress', 'completed'][i % 3]}&_total=accurate&_count=10`,
  },
];

interface Options {
  people: number;
  dataDir: string;
  concurrency: number;
  duration: number;
  warmup: number;
  batch: number;
  parallel: number;
  skipLoad: boolean;
  loadOnly: boolean;
  label: string;
  docs: boolean;
}

function options(): Options {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const { values: v } = parseArgs({
    args,
    options: {
      people: { type: 'string', default: '50000' },
      'data-dir': { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      batch: { type: 'string', default: '20' },
      parallel: { type: 'string', default: '2' },
      'skip-load': { type: 'boolean', default: false },
      'load-only': { type: 'boolean', default: false },
      label: { type: 'string', default: 'latest' },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  const n = (name: string, raw: string) => {
    const x = Number(raw);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} takes a whole number above 0, not "${raw}"`);
    return x;
  };
  const people = n('people', v.people);
  return {
    people,
    dataDir: path.resolve(v['data-dir'] ?? path.join(os.tmpdir(), `hearth-search-${people}`)),
    concurrency: n('concurrency', v.concurrency),
    duration: n('duration', v.duration),
    warmup: Number(v.warmup),
    batch: n('batch', v.batch),
    parallel: n('parallel', v.parallel),
    skipLoad: v['skip-load'],
    loadOnly: v['load-only'],
    label: v.label,
    docs: !v['no-docs'],
  };
}

async function transaction(origin: string, entries: Entry[]): Promise<void> {
  const res = await fetch(`${origin}/fhir`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
  });
  if (res.status !== 200) throw new Error(`transaction answered ${res.status}: ${(await res.text()).slice(0, 600)}`);
  await res.arrayBuffer();
}

/** Loads the batches not yet recorded as done in dataDir/loaded.json, with a progress line on stderr. */
async function load(hearth: Hearth, o: Options): Promise<void> {
  const doneFile = path.join(o.dataDir, `loaded-${o.batch}.json`);
  const done = new Set<number>(
    fs.existsSync(doneFile) ? (JSON.parse(fs.readFileSync(doneFile, 'utf8')) as number[]) : [],
  );
  const batches = Math.ceil(o.people / o.batch);
  if (!done.has(-1)) {
    await transaction(hearth.origin, sharedEntries());
    done.add(-1);
  }
  const todo = Array.from({ length: batches }, (_, b) => b).filter((b) => !done.has(b));
  const started = Date.now();
  let loaded = 0;
  const total = todo.length;
  const progress = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = (loaded * o.batch * RESOURCES_PER_PERSON) / Math.max(seconds, 0.001);
    const eta = loaded ? ((total - loaded) * seconds) / loaded : 0;
    const pct = total ? (100 * loaded) / total : 100;
    const bar = '#'.repeat(Math.round(pct / 4)).padEnd(25, '.');
    process.stderr.write(`\r[${bar}] ${pct.toFixed(1)}% ${Math.round(rate)} resources/s, ETA ${Math.round(eta)} s   `);
  };
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const b = todo[next++];
      const entries: Entry[] = [];
      for (let i = b * o.batch; i < Math.min(o.people, (b + 1) * o.batch); i++) entries.push(...personEntries(i));
      await transaction(hearth.origin, entries);
      done.add(b);
      loaded++;
      if (loaded % 10 === 0 || loaded === total) {
        fs.writeFileSync(doneFile, JSON.stringify([...done]));
        progress();
      }
    }
  };
  progress();
  await Promise.all(Array.from({ length: o.parallel }, worker));
  fs.writeFileSync(doneFile, JSON.stringify([...done]));
  process.stderr.write(`\nloaded ${o.people} people in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

interface Measured {
  name: string;
  selective: boolean;
  targetMs?: number;
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  matches: number;
  failure?: string;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(hearth: Hearth, scenario: Scenario, o: Options): Promise<Measured> {
  let counter = 0;
  // People spread over the whole population: a stride coprime with any population size below 10^7.
  const nextPerson = () => (counter++ * 7919) % o.people;
  const latencies: number[] = [];
  let matches = 0;
  let failure: string | undefined;
  const run = async (seconds: number, record: boolean) => {
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (performance.now() < until && !failure) {
          const url = `${hearth.origin}/fhir/${scenario.query(nextPerson())}`;
          const t0 = performance.now();
          const res = await fetch(url);
          const body = (await res.json()) as { total?: number; entry?: unknown[]; issue?: { diagnostics?: string }[] };
          const ms = performance.now() - t0;
          const found = scenario.results ? scenario.results(body) : (body.entry?.length ?? 0);
          if (res.status !== 200)
            failure = `${res.status}: ${body.issue?.[0]?.diagnostics ?? JSON.stringify(body).slice(0, 300)}`;
          else if (!found) failure = `no match for ${url}`;
          else if (record) {
            latencies.push(ms);
            matches += found;
          }
        }
      }),
    );
  };
  if (o.warmup > 0) await run(o.warmup, false);
  const t0 = performance.now();
  await run(o.duration, true);
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name: scenario.name,
    selective: scenario.selective,
    targetMs: targetOf(scenario),
    requests: latencies.length,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50) ?? NaN,
    p95: percentile(latencies, 95) ?? NaN,
    p99: percentile(latencies, 99) ?? NaN,
    matches: latencies.length ? matches / latencies.length : 0,
    failure,
  };
}

async function explain(db: pg.Client, scenario: Scenario): Promise<string> {
  loadDefinitions();
  const [type, query] = scenario.query(1).split('?');
  const request = parseSearch(type, [...new URLSearchParams(query)], {
    defaultCount: 20,
    maxCount: 1000,
    strict: true,
  });
  const sql = compileSearch(request, { baseUrl: 'http://127.0.0.1/fhir' });
  const { rows } = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.values);
  return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
}

/**
 * Reads what searches read into shared buffers: every index (lookups and
 * probes are index-only scans) and the resource table (the current versions
 * returned), not the version history or the index tables' own rows. Says how
 * much that was.
 */
async function prewarm(db: pg.Client): Promise<string> {
  const buffers = (await db.query<{ s: string }>("SELECT current_setting('shared_buffers') AS s")).rows[0].s;
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const { rows } = await db.query<{ pages: number }>(
    `SELECT coalesce(sum(pg_prewarm(c.oid)), 0)::bigint AS pages FROM (
       SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND (c.relkind = 'i' OR c.relname = 'resource')
       ORDER BY c.relkind, c.relname) c`,
  );
  return `shared_buffers ${buffers}, ${Math.round((rows[0].pages * 8) / 1024)} MB prewarmed (pg_prewarm: every index and the resource table)`;
}

async function main(): Promise<void> {
  const o = options();
  const machine = machineInfo();
  console.log(`search benchmark: ${o.people.toLocaleString('en-GB')} people, data in ${o.dataDir}`);
  const hearth = await startHearth(o.dataDir, embeddedDatabaseUrl);
  const db = new pg.Client({ connectionString: hearth.databaseUrl });
  try {
    if (!o.skipLoad) await load(hearth, o);
    if (o.loadOnly) return;
    await db.connect();
    await db.query('VACUUM ANALYZE');
    const counts = (
      await db.query<{ resource_type: string; n: number }>(
        'SELECT resource_type, count(*)::int AS n FROM resource WHERE NOT deleted GROUP BY 1 ORDER BY 2 DESC',
      )
    ).rows;
    const resources = counts.reduce((a, r) => a + r.n, 0);
    const size = (await db.query<{ s: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s'))
      .rows[0].s;
    const version = (await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
    console.log(`${resources.toLocaleString('en-GB')} current resources, database ${size}`);
    const cache = await prewarm(db);
    console.log(`cache: ${cache}`);
    const results: Measured[] = [];
    for (const scenario of SCENARIOS) {
      process.stdout.write(`${scenario.name} … `);
      const m = await measure(hearth, scenario, o);
      results.push(m);
      console.log(
        m.failure
          ? `FAILED: ${m.failure}`
          : `${m.perSecond.toFixed(0)} req/s, p50 ${m.p50.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms`,
      );
    }
    const slowest = results.filter((r) => !r.failure && r.selective).sort((a, b) => b.p95 - a.p95)[0];
    const plan = slowest
      ? await explain(
          db,
          SCENARIOS.find((s) => s.name === slowest.name)!,
        )
      : '';
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
    const rows = results.map((r) => {
      const target =
        r.targetMs === undefined
          ? '—'
          : `< ${r.targetMs}: ${r.failure ? 'FAILED' : r.p95 < r.targetMs ? 'pass' : 'MISS'}`;
      return `| ${r.name} | ${r.failure ? `FAILED: ${r.failure.replace(/\|/g, '\\|').slice(0, 120)}` : Math.round(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${r.matches.toFixed(1)} | ${target} |`;
    });
    const block = [
      `#### ${o.label} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `- Machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM; Node ${machine.node}; PostgreSQL ${version}`,
      `- Data: ${o.people.toLocaleString('en-GB')} people, ${resources.toLocaleString('en-GB')} current resources (${counts.map((c) => `${c.resource_type} ${c.n.toLocaleString('en-GB')}`).join(', ')}); database ${size}`,
      `- Settings: concurrency ${o.concurrency}, ${o.duration} s per scenario after ${o.warmup} s warm-up, request values spread over all people; ${cache}`,
      '',
      '| scenario | req/s | p50 ms | p95 ms | p99 ms | entries per response | p95 target (ms) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows,
      '',
      slowest
        ? `EXPLAIN (ANALYZE, BUFFERS) of the slowest selective scenario, ${slowest.name} (\`${SCENARIOS.find((s) => s.name === slowest.name)!.query(1)}\`):`
        : '',
      '',
      '```text',
      plan,
      '```',
    ].join('\n');
    console.log(`\n${block}`);
    if (o.docs) {
      updateDocs(DOCS, o.label, block, 'search', 'Search at scale results');
      console.log(`\nresults written to docs/benchmarks.md (search block "${o.label}")`);
    }
  } finally {
    await db.end().catch(() => undefined);
    await hearth.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('\nsearch benchmark failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
