/**
 * `pnpm bench:export`: Bulk Data `$export` throughput (issue 9, benchmark
 * "Export 1 M resources: MB/s"). Starts Hearth on a data folder loaded by
 * the search benchmark (`pnpm bench:search --load-only`, ~1.1 M resources
 * at 50,000 people) with security off, kicks off a system-level export,
 * polls until the manifest is ready, then downloads every file. Reports the
 * job's time (kick-off to manifest), the download, resources and bytes per
 * second, and checks that the manifest's counts add up to what was read.
 *
 * Options: --data-dir DIR (required), --type T1,T2 (all types), --label name,
 * --no-docs.
 */
import { parseArgs } from 'node:util';
import { embeddedDatabaseUrl } from '@hearth/server/store/database';
import { machineInfo } from './machine.ts';
import { updateDocs } from './report.ts';
import { startHearth } from './search/hearth.ts';

const DOCS = new URL('../../docs/benchmarks.md', import.meta.url);

interface Manifest {
  transactionTime: string;
  output: { type: string; url: string; count?: number }[];
  error: { url: string }[];
}

const { values: o } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    type: { type: 'string' },
    label: { type: 'string', default: 'latest' },
    'no-docs': { type: 'boolean', default: false },
  },
});
if (!o['data-dir']) throw new Error('--data-dir: a data folder loaded by pnpm bench:search --load-only');

const hearth = await startHearth(o['data-dir'], embeddedDatabaseUrl);
try {
  const base = `${hearth.origin}/fhir`;
  const query = o.type ? `?_type=${encodeURIComponent(o.type)}` : '';
  const started = performance.now();
  const kickoff = await fetch(`${base}/$export${query}`, {
    headers: { Prefer: 'respond-async', Accept: 'application/fhir+json' },
  });
  if (kickoff.status !== 202) throw new Error(`kick-off: ${kickoff.status} ${await kickoff.text()}`);
  const status = kickoff.headers.get('content-location')!;
  let manifest: Manifest | undefined;
  let lastProgress = '';
  while (!manifest) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const poll = await fetch(status, { headers: { Accept: 'application/json' } });
    if (poll.status === 200) manifest = (await poll.json()) as Manifest;
    else if (poll.status === 202) {
      const progress = poll.headers.get('x-progress') ?? '';
      if (progress !== lastProgress)
        console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${progress}`);
      lastProgress = progress;
    } else throw new Error(`status: ${poll.status} ${await poll.text()}`);
  }
  const jobSeconds = (performance.now() - started) / 1000;
  if (manifest.error.length) throw new Error(`the export reported errors: ${JSON.stringify(manifest.error)}`);
  const downloadStart = performance.now();
  let bytes = 0;
  let lines = 0;
  const perType = new Map<string, number>();
  for (const file of manifest.output) {
    const res = await fetch(file.url, { headers: { Accept: 'application/fhir+ndjson' } });
    if (res.status !== 200) throw new Error(`${file.url}: ${res.status}`);
    const text = await res.text();
    bytes += Buffer.byteLength(text);
    const n = text.split('\n').filter(Boolean).length;
    if (file.count !== undefined && file.count !== n)
      throw new Error(`${file.url}: ${n} lines, manifest says ${file.count}`);
    lines += n;
    perType.set(file.type, (perType.get(file.type) ?? 0) + n);
  }
  const downloadSeconds = (performance.now() - downloadStart) / 1000;
  const mb = bytes / 1e6;
  const m = machineInfo();
  const rows = [
    `| export job (kick-off to manifest) | ${jobSeconds.toFixed(1)} | ${Math.round(lines / jobSeconds)} | ${(mb / jobSeconds).toFixed(1)} |`,
    `| download of every file | ${downloadSeconds.toFixed(1)} | ${Math.round(lines / downloadSeconds)} | ${(mb / downloadSeconds).toFixed(1)} |`,
    `| both | ${(jobSeconds + downloadSeconds).toFixed(1)} | ${Math.round(lines / (jobSeconds + downloadSeconds))} | ${(mb / (jobSeconds + downloadSeconds)).toFixed(1)} |`,
  ];
  const block = [
    `#### ${o.label} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${m.cores} cores${m.cpuQuota ? ` (quota ${m.cpuQuota})` : ''}, ${m.cpuModel}, ${m.memoryGiB} GiB RAM; Node ${m.node}; embedded PostgreSQL on the same machine, security off (HEARTH_AUTH=off)`,
    `- Data: ${lines} resources in ${manifest.output.length} files, ${mb.toFixed(0)} MB of NDJSON (${[...perType].map(([t, n]) => `${t} ${n}`).join(', ')})`,
    `- System-level \`$export\`${o.type ? ` of ${o.type}` : ''}; every file downloaded once and its lines checked against the manifest`,
    '',
    '| step | seconds | resources/s | MB/s |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  console.log(`\n${block}\n`);
  if (!o['no-docs']) updateDocs(DOCS, o.label, block, 'export', 'Bulk Data export');
} finally {
  await hearth.stop();
}
