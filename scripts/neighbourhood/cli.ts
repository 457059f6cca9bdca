/**
 * `pnpm neighbourhood --people 40000 --seed 1 [--url URL | --data-dir DIR | --ndjson DIR]`:
 * generates a synthetic neighbourhood (docs/synthetic-neighbourhood.md) and
 * - `--url`: loads it into a running Hearth (FHIR base URL; `--token` or
 *   HEARTH_TOKEN for a server with security on: a token allowed to write
 *   every resource type for every patient);
 * - `--data-dir`: starts Hearth on that data folder (embedded PostgreSQL,
 *   security off while loading, as the benchmarks do), loads, and stops it;
 * - `--ndjson`: writes one NDJSON file per resource type instead (to inspect,
 *   or to check that a seed always gives the same bytes).
 * Other options: --as-of YYYY-MM-DD (default today, or the date a resumed
 * load began), --prefix (ids, default nb), --caseload-share (0.035),
 * --batch people per Bundle (20), --parallel Bundles in flight (2),
 * --state FILE (resume record), --json (print the report as JSON).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { embeddedDatabaseUrl } from '@hearth/server/store/database';
import { startHearth, type Hearth } from '../bench/search/hearth.ts';
import { DEFAULT_CASELOAD_SHARE, DEFAULT_PEOPLE, planNeighbourhood, type Plan } from './generator.ts';
import { loadNeighbourhood, type LoadReport } from './load.ts';
import { writeNdjson } from './ndjson.ts';

function options() {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  const { values: v } = parseArgs({
    args,
    options: {
      people: { type: 'string', default: String(DEFAULT_PEOPLE) },
      seed: { type: 'string', default: '1' },
      'as-of': { type: 'string' },
      prefix: { type: 'string', default: 'nb' },
      'caseload-share': { type: 'string', default: String(DEFAULT_CASELOAD_SHARE) },
      url: { type: 'string' },
      token: { type: 'string' },
      'data-dir': { type: 'string' },
      ndjson: { type: 'string' },
      batch: { type: 'string', default: '20' },
      parallel: { type: 'string', default: '2' },
      state: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const whole = (name: string, raw: string, min = 1) => {
    const x = Number(raw);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} takes a whole number from ${min}, not "${raw}"`);
    return x;
  };
  const targets = [v.url, v['data-dir'], v.ndjson].filter(Boolean).length;
  if (targets !== 1)
    throw new Error('give one of --url (a running Hearth), --data-dir (start one) or --ndjson (files)');
  // pnpm runs the script in scripts/: paths are the caller's.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const share = Number(v['caseload-share']);
  if (!(share >= 0 && share <= 1)) throw new Error(`--caseload-share takes a fraction, not "${v['caseload-share']}"`);
  return {
    people: whole('people', v.people),
    seed: whole('seed', v.seed, 0),
    asOf: v['as-of'],
    prefix: v.prefix,
    caseloadShare: share,
    url: v.url?.replace(/\/+$/, ''),
    token: v.token ?? process.env.HEARTH_TOKEN,
    dataDir: v['data-dir'] && path.resolve(cwd, v['data-dir']),
    ndjson: v.ndjson && path.resolve(cwd, v.ndjson),
    batch: whole('batch', v.batch),
    parallel: whole('parallel', v.parallel),
    state: v.state && path.resolve(cwd, v.state),
    json: v.json,
  };
}

type Options = ReturnType<typeof options>;

/** The as-of date: given, else the one a resumable load began with, else today (UTC). */
function asOfDate(o: Options, stateFile: string | undefined): string {
  if (o.asOf) return o.asOf;
  if (stateFile && fs.existsSync(stateFile)) {
    const { key } = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { key: string };
    const before = JSON.parse(key) as { asOf: string; people: number; seed: number; prefix: string };
    if (before.people === o.people && before.seed === o.seed && before.prefix === o.prefix) return before.asOf;
  }
  return new Date().toISOString().slice(0, 10);
}

function plan(o: Options, stateFile: string | undefined): Plan {
  return planNeighbourhood({
    people: o.people,
    seed: o.seed,
    asOf: asOfDate(o, stateFile),
    prefix: o.prefix,
    caseloadShare: o.caseloadShare,
  });
}

function summary(report: LoadReport, label: string): string {
  const types = Object.entries(report.counts)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${type} ${n.toLocaleString('en-GB')}`)
    .join(', ');
  return (
    `${label}: ${report.people.toLocaleString('en-GB')} people, ${report.resources.toLocaleString('en-GB')} resources ` +
    `(${types}) in ${report.seconds.toFixed(1)} s, ${Math.round(report.resourcesPerSecond).toLocaleString('en-GB')} resources/s` +
    (report.resumed ? ` (${report.resumed} batches already loaded)` : '')
  );
}

async function main(): Promise<void> {
  const o = options();
  if (o.ndjson) {
    const p = plan(o, undefined);
    const report = await writeNdjson(p, o.ndjson);
    console.log(o.json ? JSON.stringify(report) : summary(report, `written to ${o.ndjson} (as of ${p.options.asOf})`));
    return;
  }
  let hearth: Hearth | undefined;
  try {
    let url = o.url;
    let stateFile = o.state;
    if (o.dataDir) {
      // Loading only: no demo data, no breach watch marking the history's old tasks while it loads.
      process.env.HEARTH_DEMO ??= 'off';
      hearth = await startHearth(o.dataDir, embeddedDatabaseUrl);
      url = `${hearth.origin}/fhir`;
      stateFile ??= path.join(o.dataDir, `neighbourhood-${o.prefix}.json`);
    }
    stateFile ??= path.join(
      os.tmpdir(),
      `hearth-neighbourhood-${new URL(url!).host.replace(/[^A-Za-z0-9]/g, '-')}-${o.prefix}.json`,
    );
    const p = plan(o, stateFile);
    process.stderr.write(
      `neighbourhood: ${o.people.toLocaleString('en-GB')} people, seed ${o.seed}, as of ${p.options.asOf}, ` +
        `${p.neighbourhoods.length} neighbourhood(s), into ${url} (resume record ${stateFile})\n`,
    );
    const report = await loadNeighbourhood(p, {
      url: url!,
      token: o.token,
      batch: o.batch,
      parallel: o.parallel,
      stateFile,
    });
    console.log(o.json ? JSON.stringify(report) : summary(report, 'loaded'));
  } finally {
    await hearth?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`\nneighbourhood failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
