/**
 * A real Hearth server for a test file: its own fresh database on the test
 * PostgreSQL, listening on a free loopback port, with a supertest agent.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import supertest from 'supertest';
import { expect, inject } from 'vitest';
import { buildApp, type HearthApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';
import { freePort } from './ports.ts';
import { ADMIN_SCOPE, registerSystem, systemToken } from './auth.ts';

export interface TestServer {
  app: HearthApp;
  /** With security on by default (no HEARTH_AUTH given): the harness client's token, which `http` sends. */
  token?: string;
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

/**
 * Security is on in every test server. A test that names HEARTH_AUTH itself
 * (the security tests) gets the server bare; any other gets `http` sending the
 * token of a harness system client allowed everything (the directory's
 * writes named) and every patient (registered and signed in as a partner
 * would be), and no rate limit.
 */
export async function startTestServer(env: Record<string, string> = {}, databaseUrl?: string): Promise<TestServer> {
  const harness = !('HEARTH_AUTH' in env);
  if (harness) env = { HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0', ...env };
  const url = databaseUrl ?? (await createTestDatabase());
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/fhir`;
  // Its own data folder (the audit spool), removed when it closes.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-test-'));
  const config = loadConfig({
    DATABASE_URL: url,
    HEARTH_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    HEARTH_BASE_URL: baseUrl,
    LOG_LEVEL: 'silent',
    HEARTH_DB_POOL_SIZE: '8',
    ...env,
  });
  const app = await buildApp(config);
  await app.listen({ port, host: '127.0.0.1' });
  const server: TestServer = {
    app,
    baseUrl,
    databaseUrl: url,
    http: supertest.agent(app.server),
    close: async () => {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (harness) {
    // Every patient and sealed data too: tests not about security see everything.
    const client = await registerSystem(server, {
      clientId: 'test-harness',
      scope: ADMIN_SCOPE,
      allPatients: true,
      sensitiveData: true,
    });
    server.token = await systemToken(server, client, ADMIN_SCOPE);
    server.http.set('Authorization', `Bearer ${server.token}`);
  }
  return server;
}

export const FHIR_JSON = 'application/fhir+json';

/** A supertest parser keeping the body as text, whatever its type (e.g. NDJSON): `.buffer(true).parse(asText)`. */
export const asText: Extract<Parameters<supertest.Test['parse']>[0], (res: never, done: never) => void> = (
  res,
  done,
) => {
  let text = '';
  res.on('data', (c: Buffer) => (text += c.toString()));
  res.on('end', () => done(null, text));
};

/** PUTs the resources (each with its id) in one transaction with the token; expects it to succeed. */
export async function putAll(
  s: TestServer,
  token: string,
  resources: { resourceType: string; id: string; [k: string]: unknown }[],
): Promise<void> {
  const res = await s.http
    .post('/fhir')
    .set('Authorization', `Bearer ${token}`)
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((resource) => ({
        resource,
        request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
      })),
    });
  expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
}
