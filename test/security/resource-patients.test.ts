/**
 * The patients a resource row is about (resource.patients, migration 007)
 * decide who sees it, and '{}' means "about no patient": seen by everyone. A
 * row written without the column, as a node still running code from before
 * 007 writes it during a rolling upgrade, must fail closed (migration 008):
 * the insert fails, and nobody unrelated sees the resource.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../server/src/store/database.ts';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { adminToken, signedInOrganisations } from '../support/organisations.ts';

let s: TestServer;
let admin: string;
let stranger: string;

beforeAll(async () => {
  s = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0' });
  admin = await adminToken(s);
  // A user whose role has no relationship with any patient.
  ({ stranger } = await signedInOrganisations(
    s,
    admin,
    [{ id: 'elsewhere' }],
    [{ username: 'stranger', organization: 'elsewhere' }],
  ));
});
afterAll(async () => s?.close());

describe('resource.patients', () => {
  it('has no default: a row inserted without it (an old node in a rolling upgrade) fails, and nobody unrelated sees it', async () => {
    const patient = await s.http
      .post('/fhir/Patient')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', FHIR_JSON)
      .send({ resourceType: 'Patient', name: [{ family: 'Rolling' }] });
    expect(patient.status).toBe(201);
    const id = randomUUID();
    const observation = {
      resourceType: 'Observation',
      id,
      meta: { versionId: '1', lastUpdated: new Date().toISOString() },
      status: 'final',
      code: { text: 'pulse' },
      subject: { reference: `Patient/${patient.body.id}` },
    };
    const pool = createPool(s.databaseUrl, 1);
    try {
      const { rows } = await pool.query(
        `SELECT column_default, is_nullable FROM information_schema.columns
          WHERE table_name = 'resource' AND column_name = 'patients'`,
      );
      expect(rows).toEqual([{ column_default: null, is_nullable: 'NO' }]);
      // The current-row insert of code from before migration 007: no patients column.
      const oldNodeInsert = pool.query(
        `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, seq, content)
         VALUES ('Observation', $1, 1, now(), false, 0, $2)`,
        [id, JSON.stringify(observation)],
      );
      await expect(oldNodeInsert).rejects.toMatchObject({ code: '23502' });
    } finally {
      await pool.end();
    }
    const read = await s.http.get(`/fhir/Observation/${id}`).set('Authorization', `Bearer ${stranger}`);
    expect(read.status).toBe(404);
    const search = await s.http.get(`/fhir/Observation?_id=${id}`).set('Authorization', `Bearer ${stranger}`);
    expect(search.body.entry ?? []).toHaveLength(0);
  });
});
