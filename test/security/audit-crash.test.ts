/**
 * The audit trail and a crash: a server process answers requests only once
 * their audit records are committed, so killing it with SIGKILL right after
 * the answers loses none of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, FHIR_JSON, type TestServer } from '../support/server.ts';
import { freePort } from '../support/ports.ts';
import { registerSystem, systemToken } from '../support/auth.ts';

const serverDir = fileURLToPath(new URL('../../server/', import.meta.url));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-audit-crash-'));
fs.chmodSync(dataDir, 0o755);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function start(databaseUrl: string, port: number): Promise<ChildProcess> {
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
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (const began = Date.now(); !out.includes('Hearth is running');) {
    if (child.exitCode !== null || Date.now() - began > 120_000) throw new Error(`server did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}

describe('audit trail and a crash', () => {
  it('keeps the record of every answered request through SIGKILL', async () => {
    const databaseUrl = await createTestDatabase();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const first = await start(databaseUrl, port);
    const s = { databaseUrl, baseUrl: `${origin}/fhir`, http: supertest.agent(origin) } as unknown as TestServer;
    const admin = await systemToken(
      s,
      await registerSystem(s, { clientId: 'admin', scope: 'system/*.cruds', allPatients: true }),
      'system/*.cruds',
    );
    const created = await s.http
      .post('/fhir/Patient')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Crash' }] }));
    expect(created.status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const read = await s.http
        .get(`/fhir/Patient/${created.body.id}`)
        .set('Authorization', `Bearer ${admin}`)
        .set('X-Request-Id', `crash-read-${i}`);
      expect(read.status).toBe(200);
    }
    // Killed at once after the last answer: nothing gets a chance to finish later.
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      // Every answered request's record was committed before its answer left.
      const rows = await db.query(
        `SELECT request_id, patient_id, outcome FROM audit_event WHERE request_id LIKE 'crash-read-%' ORDER BY request_id`,
      );
      expect(rows.rows).toEqual(
        Array.from({ length: 5 }, (_, i) => ({
          request_id: `crash-read-${i}`,
          patient_id: created.body.id,
          outcome: '0',
        })),
      );
    } finally {
      await db.end();
    }
  }, 300_000);
});
