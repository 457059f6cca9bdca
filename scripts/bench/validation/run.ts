/**
 * `pnpm bench:validation`: what profile validation costs (issue "Hearth FHIR
 * profiles", benchmark).
 * 1. Per profile, in process: the valid example of each profile
 *    (fhir-profiles/fsh-generated) validated many times; µs per resource, p50
 *    and p99, for base R4 validation and, separately, for the profile layer on
 *    top (the profile's rules and Hearth's code systems).
 * 2. Create throughput over HTTP: the same examples POSTed at a fixed
 *    concurrency with meta.profile (validated against the profile) and without
 *    (base validation only), in alternating rounds; the profile layer must not
 *    cost more than 30% of create throughput.
 * Options: --iterations N (2000), --concurrency 8, --duration s (10),
 * --rounds 2, --label name (docs block, "latest"), --no-docs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';
import { generatedResources } from '@hearth/fhir-profiles';
import { hearthConformance } from '@hearth/server/conformance/hearth-package';
import { loadDefinitions } from '@hearth/server/fhir/definitions';
import { embeddedDatabaseUrl } from '@hearth/server/store/database';
import { checkLocalCodes } from '@hearth/server/validation/profiles';
import { baseIssues, Validation } from '@hearth/server/validation/validate';
import { runLoad } from '../load.ts';
import { machineInfo } from '../machine.ts';
import { updateDocs } from '../report.ts';
import { startHearth } from '../search/hearth.ts';

const DOCS = new URL('../../../docs/benchmarks.md', import.meta.url);
const CONFORMANCE = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'SearchParameter']);

function options() {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const { values: v } = parseArgs({
    args,
    options: {
      iterations: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '8' },
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      label: { type: 'string', default: 'latest' },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  return {
    iterations: Number(v.iterations),
    concurrency: Number(v.concurrency),
    duration: Number(v.duration),
    rounds: Number(v.rounds),
    label: v.label!,
    docs: !v['no-docs'],
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** µs per call of fn, p50 and p99, after a warm-up. */
function time(fn: () => unknown, iterations: number): { p50: number; p99: number } {
  for (let i = 0; i < Math.min(200, iterations); i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

interface PerProfile {
  profile: string;
  example: string;
  base: { p50: number; p99: number };
  profileLayer: { p50: number; p99: number };
}

function perProfile(examples: Resource[], iterations: number): PerProfile[] {
  loadDefinitions();
  const { registry } = hearthConformance();
  const validation = new Validation(registry, { enforced: new Map(), warnOnly: new Set() });
  const rows: PerProfile[] = [];
  for (const example of examples) {
    const profile = example.meta!.profile![0];
    const errors = validation.issues(example).filter((i) => i.severity === 'error');
    if (errors.length) throw new Error(`${example.resourceType}/${example.id} is not valid: ${JSON.stringify(errors)}`);
    const base = time(() => baseIssues(example), iterations);
    const profileLayer = time(() => {
      checkLocalCodes(example);
      registry.validate(example, profile);
    }, iterations);
    rows.push({
      profile: profile.split('/').at(-1)!,
      example: `${example.resourceType}/${example.id}`,
      base,
      profileLayer,
    });
  }
  return rows;
}

async function throughput(examples: Resource[], o: ReturnType<typeof options>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-validation-'));
  fs.chmodSync(dataDir, 0o755);
  const hearth = await startHearth(dataDir, embeddedDatabaseUrl);
  const requests = (withProfile: boolean) =>
    examples.map((example) => {
      const { id: _id, meta, ...rest } = example;
      const body = withProfile ? { ...rest, meta: { profile: meta!.profile } } : rest;
      return {
        method: 'POST' as const,
        path: `/fhir/${example.resourceType}`,
        headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
        body: JSON.stringify(body),
      };
    });
  const results = { on: [] as number[], off: [] as number[] };
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        const r = await runLoad({
          url: hearth.origin,
          connections: o.concurrency,
          durationSeconds: o.duration,
          requests: requests(mode === 'on'),
          serverPid: hearth.pid,
        });
        const failed = Object.values(r.failures).reduce((a, b) => a + b, 0) + r.errors;
        if (failed)
          throw new Error(`create with profiles ${mode}: ${failed} failed requests ${JSON.stringify(r.failures)}`);
        results[mode].push(r.requestsPerSecond);
        console.log(`round ${round + 1}, profiles ${mode}: ${r.requestsPerSecond.toFixed(0)} creates/s`);
      }
    }
  } finally {
    await hearth.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { on: median(results.on), off: median(results.off), all: results };
}

async function main(): Promise<void> {
  const o = options();
  const examples = generatedResources().filter(
    (r) => !CONFORMANCE.has(r.resourceType) && (r.meta as Resource['meta'])?.profile?.length,
  ) as unknown as Resource[];
  if (!examples.length) throw new Error('no profile examples in fhir-profiles/fsh-generated');
  console.log(`validation benchmark: ${examples.length} examples, ${o.iterations} iterations each`);
  const rows = perProfile(examples, o.iterations);
  for (const r of rows) {
    console.log(
      `${r.profile}: base p50 ${r.base.p50.toFixed(0)} µs, profile layer p50 ${r.profileLayer.p50.toFixed(0)} µs`,
    );
  }
  const t = await throughput(examples, o);
  const cost = 1 - t.on / t.off;
  const machine = machineInfo();
  const fmt = (x: number) => x.toFixed(0);
  const block = [
    `#### ${o.label} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${machine.cores} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM; Node ${machine.node}`,
    `- Per profile: its valid example validated ${o.iterations} times after a warm-up, in one process; base (R4 structure, invariants, required bindings) and the profile layer (the profile's rules, Hearth's code systems) timed separately`,
    `- Throughput: the ${examples.length} examples POSTed in turn (Prefer: return=minimal), concurrency ${o.concurrency}, ${o.duration} s per round, ${o.rounds} rounds alternating; "on" carries meta.profile, "off" does not (base validation only)`,
    '',
    '| profile | example | base p50 µs | base p99 µs | profile layer p50 µs | profile layer p99 µs |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.profile} | ${r.example} | ${fmt(r.base.p50)} | ${fmt(r.base.p99)} | ${fmt(r.profileLayer.p50)} | ${fmt(r.profileLayer.p99)} |`,
    ),
    '',
    `Create throughput (median of rounds): profiles off ${fmt(t.off)}/s (${t.all.off.map(fmt).join(', ')}), on ${fmt(t.on)}/s (${t.all.on.map(fmt).join(', ')}): profile validation costs ${(cost * 100).toFixed(1)}% of create throughput (target ≤ 30%: ${cost <= 0.3 ? 'pass' : 'MISS'}).`,
  ].join('\n');
  console.log(`\n${block}`);
  if (o.docs) {
    updateDocs(DOCS, o.label, block, 'validation', 'Profile validation results');
    console.log('\nresults written to docs/benchmarks.md');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('\nvalidation benchmark failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
