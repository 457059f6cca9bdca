/**
 * Benchmark of `$stratify` (docs/population-stratify.md, docs/benchmarks.md
 * "Risk stratification"): runs a full stratification against a loaded
 * database and reports the time and people per second.
 *
 *   DATABASE_URL=postgres://… tsx bench/stratify.ts           # a loaded database (e.g. the neighbourhood generator's)
 *   HEARTH_DATA_DIR=/path/to/data tsx bench/stratify.ts        # a loaded embedded data folder
 *   tsx bench/stratify.ts --seed 5000                         # a temporary folder seeded with 5,000 synthetic people
 *   HEARTH_DATA_DIR=… tsx bench/stratify.ts --seed 3000 --seed-only   # seed only (copy the folder to time first runs)
 *
 * `--seed N` first adds synthetic people (conditions from population/codes.ts,
 * emergency care, medications, social factors) until there are N. Security is
 * off (HEARTH_AUTH=off): the bare engine is measured. HEARTH_STRATIFY_* and
 * HEARTH_COHORT_SHARE apply as in the server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';
import { EFI_DEFICITS, OTHER_LONG_TERM_CONDITIONS, SOCIAL_FACTORS } from '../../server/src/population/codes.ts';
import { countPatients } from '../../server/src/store/stratify.ts';

const seedArg = process.argv.indexOf('--seed');
const seed = seedArg > 0 ? Number(process.argv[seedArg + 1]) : 0;
const seedOnly = process.argv.includes('--seed-only');
const external = Boolean(process.env.DATABASE_URL?.trim());
const temporary =
  !external && !process.env.HEARTH_DATA_DIR ? fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-strat-')) : undefined;
if (temporary) fs.chmodSync(temporary, 0o755);

const config = loadConfig({
  ...process.env,
  HEARTH_AUTH: 'off',
  HEARTH_DEMO: 'off',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  ...(temporary ? { HEARTH_DATA_DIR: temporary } : {}),
});
const app = await buildApp(config);
await app.ready();

/** A deterministic pseudo-random stream (mulberry32). */
function random(seedValue: number): () => number {
  let a = seedValue;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function person(i: number, rnd: () => number): Record<string, unknown>[] {
  const id = `bench-${String(i).padStart(6, '0')}`;
  const subject = { reference: `Patient/${id}` };
  const out: Record<string, unknown>[] = [
    {
      resourceType: 'Patient',
      id,
      birthDate: `${1930 + Math.floor(rnd() * 90)}-01-01`,
      address: [
        {
          use: 'home',
          extension: [
            {
              url: 'https://hearth.example/fhir/StructureDefinition/imd-decile',
              valueInteger: 1 + Math.floor(rnd() * 10),
            },
          ],
        },
      ],
    },
  ];
  const conditions = EFI_DEFICITS.filter((d) => d.recordedAs === 'Condition');
  const n = Math.floor(rnd() * rnd() * 14);
  for (let k = 0; k < n; k++) {
    const d = conditions[Math.floor(rnd() * conditions.length)];
    out.push({
      resourceType: 'Condition',
      id: `${id}-c${k}`,
      code: { coding: [{ system: 'http://snomed.info/sct', code: d.codes[0] }] },
      subject,
    });
  }
  if (rnd() < 0.2) {
    const c = OTHER_LONG_TERM_CONDITIONS[Math.floor(rnd() * OTHER_LONG_TERM_CONDITIONS.length)];
    out.push({
      resourceType: 'Condition',
      id: `${id}-ltc`,
      code: { coding: [{ system: 'http://snomed.info/sct', code: c.code }] },
      subject,
    });
  }
  for (let k = 0; k < Math.floor(rnd() * rnd() * 8); k++) {
    out.push({
      resourceType: 'MedicationStatement',
      id: `${id}-m${k}`,
      status: 'active',
      medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: `med-${Math.floor(rnd() * 50)}` }] },
      subject,
    });
  }
  for (let k = 0; k < (rnd() < 0.15 ? 1 + Math.floor(rnd() * 3) : 0); k++) {
    const admitted = rnd() < 0.5;
    out.push({
      resourceType: 'Encounter',
      id: `${id}-e${k}`,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: admitted ? 'IMP' : 'EMER' },
      ...(admitted
        ? { priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActPriority', code: 'EM' }] } }
        : {}),
      period: { start: new Date(Date.now() - rnd() * 300 * 86_400_000).toISOString() },
      subject,
    });
  }
  if (rnd() < 0.2) {
    const f = SOCIAL_FACTORS[Math.floor(rnd() * SOCIAL_FACTORS.length)];
    out.push({
      resourceType: 'Observation',
      id: `${id}-s`,
      status: 'final',
      code: { coding: [{ system: 'http://snomed.info/sct', code: f.code }] },
      subject,
    });
  }
  return out;
}

async function seedPeople(target: number): Promise<void> {
  const have = await countPatients(app.database.pool);
  const rnd = random(20251123);
  const started = Date.now();
  for (let i = have; i < target; i += 100) {
    const entries = [];
    for (let j = i; j < Math.min(i + 100, target); j++) {
      for (const r of person(j, rnd))
        entries.push({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } });
    }
    const res = await app.inject({
      method: 'POST',
      url: '/fhir',
      headers: { 'content-type': 'application/fhir+json' },
      payload: { resourceType: 'Bundle', type: 'transaction', entry: entries },
    });
    if (res.statusCode !== 200) throw new Error(`seeding failed: ${res.statusCode} ${res.body.slice(0, 500)}`);
  }
  if (target > have) console.log(`seeded ${target - have} people in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  if (seed) await seedPeople(seed);
  if (!seedOnly) await stratifyOnce();
} finally {
  await app.close();
  if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
}

/**
 * CPU seconds used so far by this process and its descendants (the embedded PostgreSQL and its backends), from
 * /proc (Linux; undefined elsewhere): a measure of the work done that a busy machine disturbs less than time.
 */
function cpuSeconds(): number | undefined {
  try {
    const stats = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .flatMap((d) => {
        try {
          const fields = fs
            .readFileSync(`/proc/${d}/stat`, 'utf8')
            .replace(/^.*\) /, '')
            .split(' ');
          // After the name: state ppid … utime (11) stime (12) cutime (13) cstime (14), in clock ticks.
          const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0);
          return [{ pid: Number(d), ppid: Number(fields[1]), ticks }];
        } catch {
          return [];
        }
      });
    const mine = new Set([process.pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const s of stats)
        if (!mine.has(s.pid) && mine.has(s.ppid)) {
          mine.add(s.pid);
          grew = true;
        }
    }
    return stats.filter((s) => mine.has(s.pid)).reduce((n, s) => n + s.ticks, 0) / 100;
  } catch {
    return undefined;
  }
}

async function stratifyOnce(): Promise<void> {
  // People queued by the seeding are the full run's (it clears what was queued before it started).
  const people = await countPatients(app.database.pool);
  const cpuBefore = cpuSeconds();
  const nodeBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const kick = await app.inject({ method: 'POST', url: '/fhir/$stratify', headers: { prefer: 'respond-async' } });
  if (kick.statusCode !== 202) throw new Error(`kick-off: ${kick.statusCode} ${kick.body}`);
  const status = new URL(kick.headers['content-location'] as string);
  let body = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const res = await app.inject({ method: 'GET', url: `${status.pathname}${status.search}` });
    if (res.statusCode === 200) {
      body = res.body;
      break;
    }
    if (res.statusCode !== 202) throw new Error(`status: ${res.statusCode} ${res.body}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = cpuSeconds();
  const node = process.cpuUsage(nodeBefore);
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  const result = JSON.parse(body) as { bands: unknown; risk: unknown; segments: unknown; cohort: unknown };
  console.log(
    JSON.stringify(
      {
        people,
        seconds: Number(seconds.toFixed(1)),
        peoplePerSecond: Math.round(people / seconds),
        // Server and PostgreSQL CPU seconds per 1,000 people (less disturbed by a busy machine than time).
        ...(cpu !== undefined
          ? { cpuSeconds: Number(cpu.toFixed(1)), cpuPer1000: Number(((cpu * 1000) / people).toFixed(2)) }
          : {}),
        // Of which this process (the server): the rest is PostgreSQL's.
        serverCpuSeconds: Number(((node.user + node.system) / 1e6).toFixed(1)),
        batchSize: config.stratify.batchSize,
        cpus: os.cpus().length,
        bands: result.bands,
        risk: result.risk,
        segments: result.segments,
        cohort: result.cohort,
      },
      null,
      2,
    ),
  );
}
