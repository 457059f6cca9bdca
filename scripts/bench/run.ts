/**
 * `pnpm bench`: HTTP benchmark of Hearth against a hello-world Fastify ceiling.
 *
 * Layout: both servers run in one forked Node process (servers.ts), with
 * PostgreSQL in its own processes; autocannon runs here, in the parent, so
 * the load generator never shares the servers' event loop. On 2 cores the
 * three compete for the CPU, as they would on any single machine; the CPU
 * split printed per scenario shows who used what.
 *
 * Options (or environment): --duration s (BENCH_DURATION, 10), --warmup s
 * (BENCH_WARMUP, 3), --connections n (BENCH_CONNECTIONS, 16), --repeat n
 * (BENCH_REPEAT, 1: rounds of all scenarios, median reported), --only a,b,
 * --patients n (1000), --label name (results block in docs/benchmarks.md,
 * "latest"), --no-docs, --profile dir (a CPU profile of the server process per
 * measured scenario, dir/<scenario>.cpuprofile; implies --no-docs, since the
 * profiler slows the server down).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { combineRounds } from './aggregate.ts';
import { machineBusyCores, waitForQuiet } from './cpu.ts';
import { launchServers, type ServerProcess } from './launch.ts';
import { runLoad } from './load.ts';
import { machineInfo } from './machine.ts';
import { failure, printTable, renderMarkdown, updateDocs, type RunReport, type ScenarioOutcome } from './report.ts';
import { SCENARIOS, toAutocannonRequests, type Scenario, type ScenarioContext } from './scenarios.ts';
import { probe, seedPatients } from './seed.ts';

const DOCS = new URL('../../docs/benchmarks.md', import.meta.url);
/** Before each scenario: wait (at most this long) until the machine uses less than this many cores. */
const QUIET_CORES = 0.25;
const QUIET_WAIT_SECONDS = 30;

interface Options {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  repeat: number;
  patients: number;
  scenarios: Scenario[];
  label: string;
  writeDocs: boolean;
  profileDir?: string;
}

function parseOptions(): Options {
  const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')); // `pnpm bench -- --x` passes "--"
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
      warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '3' },
      connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '16' },
      repeat: { type: 'string', default: process.env.BENCH_REPEAT ?? '1' },
      patients: { type: 'string', default: '1000' },
      only: { type: 'string' },
      label: { type: 'string', default: 'latest' },
      'no-docs': { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  });
  const positive = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}; got "${raw}"`);
    return n;
  };
  const wanted = values.only?.split(',').map((s) => s.trim());
  const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown?.length) {
    throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  if (!/^[\w.-]+$/.test(values.label)) throw new Error('--label takes letters, digits, ".", "_" and "-"');
  return {
    durationSeconds: positive('duration', values.duration, 1),
    warmupSeconds: positive('warmup', values.warmup, 0),
    connections: positive('connections', values.connections, 1),
    repeat: positive('repeat', values.repeat, 1),
    patients: positive('patients', values.patients, 1),
    scenarios: wanted ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS,
    label: values.label,
    writeDocs: !values['no-docs'] && !values.profile,
    profileDir: values.profile ? path.resolve(values.profile) : undefined,
  };
}

async function measure(
  scenario: Scenario,
  servers: ServerProcess,
  context: ScenarioContext,
  options: Options,
  round: number,
): Promise<ScenarioOutcome> {
  const origin = scenario.server === 'hello' ? servers.ready.helloOrigin : servers.ready.hearthOrigin;
  const next = scenario.prepare(context);
  try {
    await servers.settle();
    const busy = await waitForQuiet(QUIET_CORES, QUIET_WAIT_SECONDS);
    if (busy !== undefined && busy >= QUIET_CORES)
      process.stdout.write(`(machine still ${busy.toFixed(2)} cores busy) `);
    await probe(origin, scenario, next());
    const load = (durationSeconds: number) =>
      runLoad({
        url: origin,
        connections: options.connections,
        durationSeconds,
        requests: toAutocannonRequests(next),
        serverPid: servers.pid,
      });
    if (options.warmupSeconds > 0) await load(options.warmupSeconds);
    if (options.profileDir) await servers.startProfile();
    const result = await load(options.durationSeconds);
    if (options.profileDir) {
      const suffix = options.repeat > 1 ? `-${round}` : '';
      await servers.stopProfile(path.join(options.profileDir, `${scenario.name}${suffix}.cpuprofile`));
    }
    return { name: scenario.name, result };
  } catch (error) {
    return { name: scenario.name, error: error instanceof Error ? error.message : String(error) };
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const machine = machineInfo();
  console.log(
    `Hearth benchmark: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ` +
      `${options.connections} connections, ${options.durationSeconds} s + ${options.warmupSeconds} s warm-up per scenario`,
  );
  const busy = await machineBusyCores(1000);
  if (busy !== undefined && busy > 0.2) {
    console.log(`WARNING: ${busy.toFixed(2)} cores are busy before the benchmark starts; figures will be disturbed`);
  }
  if (options.profileDir) fs.mkdirSync(options.profileDir, { recursive: true });
  const servers = await launchServers();
  const onSignal = () => void servers.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rounds: ScenarioOutcome[][] = [];
  try {
    const { ready } = servers;
    console.log(`PostgreSQL ${ready.postgres.version} (${ready.postgres.mode}), pool size ${ready.poolSize}`);
    const patientIds = await seedPatients(ready.hearthOrigin, options.patients);
    console.log(`seeded ${patientIds.length} Patients`);
    for (let round = 1; round <= options.repeat; round++) {
      if (options.repeat > 1) console.log(`round ${round} of ${options.repeat}`);
      const outcomes: ScenarioOutcome[] = [];
      for (const scenario of options.scenarios) {
        process.stdout.write(`${scenario.name} … `);
        const outcome = await measure(scenario, servers, { patientIds }, options, round);
        outcomes.push(outcome);
        const r = outcome.result;
        const failed = failure(outcome);
        console.log(
          r ? `${Math.round(r.requestsPerSecond)} req/s, p99 ${r.latencyMs.p99.toFixed(1)} ms` : '',
          failed ? `FAILED: ${failed}` : '',
        );
      }
      rounds.push(outcomes);
    }
  } finally {
    await servers.stop();
  }

  const outcomes = combineRounds(rounds);
  for (const outcome of outcomes) {
    const scenario = SCENARIOS.find((s) => s.name === outcome.name)!;
    if (outcome.result && scenario.target) outcome.target = scenario.target(outcome.result, outcome.ratio);
  }
  const report: RunReport = {
    date: new Date(),
    label: options.label,
    machine,
    postgres: servers.ready.postgres,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    rounds: options.repeat,
    poolSize: servers.ready.poolSize,
    patients: options.patients,
    outcomes,
  };
  printTable(report);
  if (options.writeDocs) {
    updateDocs(DOCS, options.label, renderMarkdown(report));
    console.log(`\nresults written to docs/benchmarks.md (block "${options.label}")`);
  }
  if (options.profileDir) {
    console.log(`\nCPU profiles of the server process: ${options.profileDir}/<scenario>.cpuprofile`);
    console.log(`top functions: pnpm --filter @hearth/scripts bench:profile-top ${options.profileDir}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('benchmark failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
