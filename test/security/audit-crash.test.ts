/**
 * The audit trail and a crash: a server process answers requests only once
 * their audit records are committed, so killing it with SIGKILL right after
 * the answers loses none of them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, FHIR_JSON } from '../support/server.ts';
import { freePort } from '../support/ports.ts';
import { processAgent, startServerProcess, type ServerProcess } from '../support/server-process.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-audit-crash-'));
fs.chmodSync(dataDir, 0o755);
const servers: ServerProcess[] = [];
afterAll(() => {
  for (const server of servers) if (server.alive()) server.child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('audit trail and a crash', () => {
  it('keeps the record of every answered request through SIGKILL', async () => {
    const databaseUrl = await createTestDatabase();
    const port = await freePort();
    const first = await startServerProcess(databaseUrl, port, dataDir);
    servers.push(first);
    const http = await processAgent(databaseUrl, port, 'admin');
    const created = await http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Crash' }] }));
    expect(created.status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const read = await http.get(`/fhir/Patient/${created.body.id}`).set('X-Request-Id', `crash-read-${i}`);
      expect(read.status).toBe(200);
    }
    // Killed at once after the last answer: nothing gets a chance to finish later.
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
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
