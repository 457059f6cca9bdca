/**
 * Benchmark of `Measure/{id}/$evaluate-measure` (docs/population-measures.md,
 * docs/benchmarks.md "Equity and outcome measures"): evaluates every installed
 * Hearth Measure over a loaded database, as a summary and as a subject list,
 * and reports the time of each (median of `--runs` after one warm-up run) and
 * what it counted.
 *
 *   HEARTH_DATA_DIR=/path/to/data tsx bench/measures.ts [--runs 3] [--period-start 2025-11-23 --period-end 2026-11-23]
 *   DATABASE_URL=postgres://… tsx bench/measures.ts
 *
 * Security is off (HEARTH_AUTH=off): the bare evaluation is measured, as the
 * stratify and export benchmarks measure theirs.
 */
import { parseArgs } from 'node:util';
import type { Bundle, Measure, MeasureReport } from '@medplum/fhirtypes';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'period-start': { type: 'string' },
    'period-end': { type: 'string' },
  },
});
const runs = Math.max(1, Number(values.runs));
const end = values['period-end'] ?? new Date().toISOString().slice(0, 10);
const start = values['period-start'] ?? new Date(Date.parse(end) - 365 * 86_400_000).toISOString().slice(0, 10);

if (!process.env.HEARTH_DATA_DIR && !process.env.DATABASE_URL) {
  console.error('Set HEARTH_DATA_DIR (a loaded data folder) or DATABASE_URL.');
  process.exit(2);
}
const app = await buildApp(
  loadConfig({ ...process.env, HEARTH_AUTH: 'off', HEARTH_DEMO: 'off', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }),
);
await app.ready();

async function get<T>(url: string): Promise<T> {
  const res = await app.inject({ method: 'GET', url });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return res.json() as T;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const people = (await get<Bundle>('/fhir/Patient?_summary=count')).total;
  const measures = ((await get<Bundle>('/fhir/Measure?_count=100')).entry ?? []).map((e) => e.resource as Measure);
  console.log(`${people} people; ${measures.length} measures; period ${start} to ${end}; median of ${runs} runs`);
  console.log('| measure | report | median ms | counts (overall) |');
  console.log('| --- | --- | ---: | --- |');
  for (const measure of measures) {
    for (const reportType of ['summary', 'subject-list']) {
      const url = `/fhir/Measure/${measure.id}/$evaluate-measure?periodStart=${start}&periodEnd=${end}&reportType=${reportType}`;
      let report = await get<MeasureReport>(url); // warm-up
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        report = await get<MeasureReport>(url);
        times.push(performance.now() - t0);
      }
      const counts = (report.group?.[0]?.population ?? [])
        .map((p) => `${p.code?.coding?.[0]?.code}=${p.count}`)
        .join(', ');
      console.log(`| ${measure.id} | ${reportType} | ${median(times).toFixed(0)} | ${counts} |`);
    }
  }
} finally {
  await app.close();
}
