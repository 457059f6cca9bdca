/**
 * Reindex (issue: "Re-indexing a type after a SearchParameter change is a
 * command"): index rows lost or stale are rebuilt from the stored resources by
 * the same extraction as the write path, for the types asked, and by the CLI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reindex } from '../../server/src/commands/reindex.ts';
import { createPool } from '../../server/src/store/database.ts';
import { patient, uniqueValue } from '../support/resources.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
const family = `Reindex${uniqueValue('f').replace(/-/g, '')}`;
const code = uniqueValue('obs');

beforeAll(async () => {
  s = await startTestServer();
  for (let i = 0; i < 3; i++) {
    const p = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(patient(undefined, { name: [{ family }] })));
    expect(p.status).toBe(201);
  }
  const o = await s.http
    .post('/fhir/Observation')
    .set('Content-Type', FHIR_JSON)
    .send(
      JSON.stringify({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'urn:t', code }] } }),
    );
  expect(o.status).toBe(201);
});
afterAll(async () => s?.close());

const count = async (query: string) => (await s.http.get(`/fhir/${query}&_total=accurate`)).body.total as number;

async function dropIndexRows(): Promise<void> {
  const pool = createPool(s.databaseUrl, 1);
  try {
    for (const table of ['sp_string', 'sp_token']) await pool.query(`DELETE FROM ${table}`);
  } finally {
    await pool.end();
  }
}

describe('reindex', () => {
  it('rebuilds the rows of the types asked for, and only those', async () => {
    await dropIndexRows();
    expect(await count(`Patient?family=${family}`)).toBe(0);
    expect(await count(`Observation?code=urn:t|${code}`)).toBe(0);
    const pool = createPool(s.databaseUrl, 2);
    try {
      const progress: number[] = [];
      const done = await reindex(pool, ['Patient'], (p) => progress.push(p.done));
      expect(done).toBe(3);
      expect(progress).toEqual([3]);
      expect(await count(`Patient?family=${family}`)).toBe(3);
      expect(await count(`Observation?code=urn:t|${code}`)).toBe(0);
      // Every type: the four written here and the conformance resources installed at start.
      const all = (await pool.query('SELECT count(*)::int AS n FROM resource WHERE NOT deleted')).rows[0].n as number;
      expect(all).toBeGreaterThan(4);
      expect(await reindex(pool, [])).toBe(all);
      expect(await count(`Observation?code=urn:t|${code}`)).toBe(1);
      // Running it again leaves exactly one set of rows.
      await reindex(pool, []);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM sp_string WHERE code = 'family' AND value = $1`,
        [family],
      );
      expect(rows[0].n).toBe(3);
    } finally {
      await pool.end();
    }
  });

  it('runs as a command: pnpm --filter @hearth/server reindex Patient', async () => {
    await dropIndexRows();
    const server = fileURLToPath(new URL('../../server/', import.meta.url));
    const { stderr } = await promisify(execFile)('npx', ['tsx', 'src/commands/reindex-cli.ts', 'Patient'], {
      cwd: server,
      env: { ...process.env, DATABASE_URL: s.databaseUrl, LOG_LEVEL: 'warn' },
    });
    expect(stderr).toContain('reindexed 3 resources');
    expect(await count(`Patient?family=${family}`)).toBe(3);
  });

  it("keeps each Provenance about its targets' patients (access control reads them)", async () => {
    const p = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient()));
    const o = await s.http
      .post('/fhir/Observation')
      .set('Content-Type', FHIR_JSON)
      .send(
        JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'pulse' },
          subject: { reference: `Patient/${p.body.id}` },
        }),
      );
    expect(o.status).toBe(201);
    const pool = createPool(s.databaseUrl, 1);
    // The Provenance of the Observation's creation is about the Observation's patient (it targets no Patient itself).
    const patientsOfProvenance = async () =>
      (
        await pool.query(
          `SELECT patients FROM resource WHERE resource_type = 'Provenance'
              AND content::jsonb #>> '{target,0,reference}' = $1`,
          [`Observation/${o.body.id}/_history/1`],
        )
      ).rows.map((r) => r.patients);
    try {
      expect(await patientsOfProvenance()).toEqual([[p.body.id]]);
      await reindex(pool, []);
      expect(await patientsOfProvenance()).toEqual([[p.body.id]]);
    } finally {
      await pool.end();
    }
  });
});
