/**
 * A real Hearth server for a test file: its own fresh database on the test
 * PostgreSQL, listening on a free loopback port, with a supertest agent.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import supertest from 'supertest';
import { inject } from 'vitest';
import { buildApp, type HearthApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';
import { freePort } from './ports.ts';

export interface TestServer {
  app: HearthApp;
  /** The FHIR base URL, e.g. http://127.0.0.1:41234/fhir */
  baseUrl: string;
  /** Connection string of this file's database. */
  databaseUrl: string;
  http: supertest.Agent;
  close(): Promise<void>;
}

export async function createTestDatabase(): Promise<string> {
  const admin = inject('adminDatabaseUrl');
  const name = `hearth_t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function startTestServer(env: Record<string, string> = {}, databaseUrl?: string): Promise<TestServer> {
  const url = databaseUrl ?? (await createTestDatabase());
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/fhir`;
  const config = loadConfig({
    DATABASE_URL: url,
    PORT: String(port),
    HOST: '127.0.0.1',
    HEARTH_BASE_URL: baseUrl,
    LOG_LEVEL: 'silent',
    HEARTH_DB_POOL_SIZE: '8',
    ...env,
  });
  const app = await buildApp(config);
  await app.listen({ port, host: '127.0.0.1' });
  return { app, baseUrl, databaseUrl: url, http: supertest.agent(app.server), close: () => app.close() };
}

export const FHIR_JSON = 'application/fhir+json';
