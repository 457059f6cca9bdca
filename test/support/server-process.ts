/**
 * Hearth as a process of its own (src/main.ts), for tests that kill it or
 * must see it die: started over an existing database on a given port, with
 * an agent holding a system token (registered in the database, issued for
 * the base URL: a process started again on the same port accepts it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import { registerSystem, systemToken } from './auth.ts';
import type { TestServer } from './server.ts';

const serverDir = fileURLToPath(new URL('../../server/', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** What it has written to stdout and stderr so far. */
  output(): string;
  /** Whether it is still running. */
  alive(): boolean;
}

/** Starts Hearth over `databaseUrl` on `port`; resolves once it says it is running. */
export async function startServerProcess(
  databaseUrl: string,
  port: number,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      HEARTH_DATA_DIR: dataDir,
      HEARTH_RATE_LIMIT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const alive = () => child.exitCode === null && child.signalCode === null;
  for (const began = Date.now(); !out.includes('Hearth is running');) {
    if (!alive() || Date.now() - began > 120_000) throw new Error(`server did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => out, alive };
}

/** An agent for the process on `port` with the token of a new system client allowed everything. */
export async function processAgent(databaseUrl: string, port: number, clientId: string): Promise<supertest.Agent> {
  const origin = `http://127.0.0.1:${port}`;
  const http = supertest.agent(origin);
  const s = { databaseUrl, baseUrl: `${origin}/fhir`, http } as unknown as TestServer;
  const client = await registerSystem(s, { clientId, scope: 'system/*.cruds', allPatients: true });
  http.set('Authorization', `Bearer ${await systemToken(s, client, 'system/*.cruds')}`);
  return http;
}
