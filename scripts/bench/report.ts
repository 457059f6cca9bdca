/**
 * Results as a console table and as a Markdown block in docs/benchmarks.md.
 * The block sits between `<!-- bench:crud:LABEL -->` markers and is replaced on
 * every run with the same label (default "latest"); a new label is inserted
 * before `<!-- bench:crud:end -->`, so before/after runs can sit side by side.
 */
import fs from 'node:fs';
import type { LoadResult } from './load.ts';
import type { MachineInfo } from './machine.ts';
import type { PostgresInfo } from './protocol.ts';
import type { TargetOutcome } from './scenarios.ts';

export interface ScenarioOutcome {
  name: string;
  result?: LoadResult;
  /** Why the scenario could not be measured (probe or load generator failure). */
  error?: string;
  /** req/s divided by the hello-world req/s of the same round. */
  ratio?: number;
  /** With --repeat: how many rounds, and the lowest and highest req/s among them. */
  rounds?: number;
  rpsRange?: [number, number];
  target?: TargetOutcome;
}

export interface RunReport {
  date: Date;
  label: string;
  machine: MachineInfo;
  postgres: PostgresInfo;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  poolSize: number;
  patients: number;
  outcomes: ScenarioOutcome[];
}

/** A measurement with non-2xx responses or connection errors is a failed run, whatever its speed. */
export function failure(outcome: ScenarioOutcome): string | undefined {
  if (outcome.error) return outcome.error;
  const r = outcome.result;
  if (!r) return 'not measured';
  const bad = Object.entries(r.failures).map(([status, n]) => `${n} × ${status}`);
  if (r.errors) bad.push(`${r.errors} connection errors/timeouts`);
  if (r.ok === 0) bad.push('no successful response');
  return bad.length ? bad.join(', ') : undefined;
}

function verdict(outcome: ScenarioOutcome): string {
  const failed = failure(outcome);
  if (failed) return `FAILED (${failed.split('\n')[0].slice(0, 200)})`;
  if (!outcome.target) return '—';
  if (outcome.target.pass === undefined) return 'n/a (no hello-world)';
  return outcome.target.pass ? 'pass' : 'MISS';
}

const num = (n: number, digits = 0) =>
  n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => num(n, n < 10 ? 2 : 1);

function row(outcome: ScenarioOutcome): string[] {
  const r = outcome.result;
  const cpu = r?.cpu;
  return [
    outcome.name,
    r
      ? num(r.requestsPerSecond) + (outcome.rpsRange ? ` (${outcome.rpsRange.map((n) => num(n)).join('–')})` : '')
      : '—',
    r ? ms(r.latencyMs.p50) : '—',
    r ? ms(r.latencyMs.p99) : '—',
    outcome.ratio === undefined ? '—' : `${num(outcome.ratio * 100, 1)} %`,
    outcome.target?.description ?? '—',
    verdict(outcome),
    cpu ? [cpu.loadGenerator, cpu.server, cpu.postgres, cpu.other].map((c) => num(c, 2)).join(' / ') : '—',
  ];
}

const HEADER = [
  'scenario',
  'req/s',
  'p50 ms',
  'p99 ms',
  'of hello-world',
  'target',
  'result',
  'CPU: load / node / pg / other',
];

/** Cores used by work outside the benchmark above which a measurement is flagged as disturbed. */
const DISTURBED_CORES = 0.25;

/** Warnings about measurements that other work on the machine competed with. */
export function disturbances(report: RunReport): string[] {
  return report.outcomes
    .filter((o) => (o.result?.cpu?.other ?? 0) > DISTURBED_CORES)
    .map(
      (o) =>
        `${o.name}: ${num(o.result!.cpu!.other, 2)} cores went to work outside the benchmark (other processes or kernel); its figures are disturbed`,
    );
}

export function printTable(report: RunReport): void {
  const rows = [HEADER, ...report.outcomes.map(row)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${line(rows[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows.slice(1)) console.log(line(r));
  for (const o of report.outcomes) {
    const failed = failure(o);
    if (failed) console.log(`\n${o.name} FAILED: ${failed}`);
  }
  for (const warning of disturbances(report)) console.log(`\nWARNING ${warning}`);
}

export function renderMarkdown(report: RunReport): string {
  const m = report.machine;
  const pg = report.postgres;
  const pgSettings = Object.entries(pg.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const quota = m.cpuQuota === undefined ? '' : ` (cgroup quota ${num(m.cpuQuota, 2)} cores)`;
  const lines = [
    `#### ${report.label} — ${report.date.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Machine: ${m.cores} cores${quota}, ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.kernel}`,
    `- Software: Node ${m.node}, PostgreSQL ${pg.version} (${pg.mode}; ${pgSettings}), autocannon ${m.autocannon}`,
    `- Settings: ${report.connections} connections, ${report.durationSeconds} s per scenario after a ${report.warmupSeconds} s warm-up, ` +
      `Hearth pool size ${report.poolSize}, LOG_LEVEL=warn, ${num(report.patients)} seeded Patients` +
      (report.rounds > 1 ? `; ${report.rounds} rounds, median round shown with the req/s range` : ''),
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i === 0 || i >= 5 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...report.outcomes.map((o) => `| ${row(o).join(' | ')} |`),
  ];
  const failures = report.outcomes.filter((o) => failure(o));
  const notes = [
    ...failures.map((o) => `${o.name} failed: ${failure(o)!.split('\n')[0].slice(0, 300)}`),
    ...disturbances(report),
  ];
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

/**
 * Writes `block` between the markers of its label in a section of the file
 * (`kind`: crud or search), replacing an earlier block of the same label; a new
 * label goes just before the section's end marker (the section is added at the
 * end of the file if it has none yet).
 */
export function updateDocs(
  file: URL,
  label: string,
  block: string,
  kind = 'crud',
  heading = 'CRUD and transaction results',
): void {
  const end = `<!-- bench:${kind}:end -->`;
  const open = `<!-- bench:${kind}:${label} -->`;
  const close = `<!-- /bench:${kind}:${label} -->`;
  const section = `${open}\n${block}\n${close}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(open);
  const stop = text.indexOf(close);
  if (start >= 0 && stop > start) {
    text = text.slice(0, start) + section + text.slice(stop + close.length);
  } else if (text.includes(end)) {
    text = text.replace(end, `${section}\n\n${end}`);
  } else {
    text = `${text.trimEnd()}\n\n## ${heading}\n\n${section}\n\n${end}\n`;
  }
  fs.writeFileSync(file, text);
}
