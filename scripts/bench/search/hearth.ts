/**
 * Runs Hearth as `pnpm start` does (server/src/main.ts), on free ports of
 * 127.0.0.1 and a data folder that outlives the run, so a large neighbourhood
 * is loaded once and measured many times. Stopped with SIGTERM (graceful:
 * drains requests, stops embedded PostgreSQL).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Hearth {
  origin: string;
  /** Connection string of its database (embedded or DATABASE_URL). */
  databaseUrl: string;
  pid: number;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('../../../server/', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startHearth(dataDir: string, embeddedUrl: (port: number) => string): Promise<Hearth> {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.chmodSync(dataDir, 0o755);
  const [port, pgPort] = [await freePort(), await freePort()];
  const external = process.env.DATABASE_URL?.trim();
  // HEARTH_BENCH_NODE_ARGS: extra Node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = process.env.HEARTH_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HEARTH_DATA_DIR: dataDir,
      HEARTH_PG_PORT: String(pgPort),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // The search and validation benchmarks measure the server without security (bench:security sets it).
      HEARTH_AUTH: process.env.HEARTH_AUTH ?? 'off',
      // The generated tasks are long overdue: on a first start the breach watch would mark them all (a burst of
      // writes while reads are measured). Marking is measured by the workflow tests, not here.
      HEARTH_BREACH_WATCH: process.env.HEARTH_BREACH_WATCH ?? 'off',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    // The embedded PostgreSQL may still be finishing its shutdown checkpoint: a restart must wait for it.
    const pid = `${dataDir}/pg/postmaster.pid`;
    for (let waited = 0; fs.existsSync(pid) && waited < 120_000; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  for (let waited = 0; ; waited += 500) {
    if (child.exitCode !== null) throw new Error('Hearth exited before it was ready');
    try {
      if ((await fetch(`${origin}/fhir/metadata`)).ok) break;
    } catch {
      // not listening yet
    }
    // Migrations run at start: on millions of resources a new index takes minutes.
    if (waited > 3_600_000) {
      await stop();
      throw new Error('Hearth was not ready within an hour');
    }
    if (waited > 0 && waited % 60_000 === 0)
      console.log(`waiting for Hearth to start (migrations?): ${waited / 60_000} min`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { origin, databaseUrl: external || embeddedUrl(pgPort), pid: child.pid!, stop };
}
