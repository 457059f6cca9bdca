/**
 * Migration 010 (docs/security-restricted.md "Upgrading"): the confidentiality
 * level of rows stored before it is filled from their labels (a deletion from
 * the version it deleted, a Provenance from its targets), and afterwards a row
 * inserted without a level (a node still running older code) fails rather than
 * being stored as unsealed.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../server/src/store/database.ts';
import { listMigrations, migrate } from '../../server/src/store/migrate.ts';
import { createTestDatabase } from '../support/server.ts';

const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const obs = (id: string, ...codes: string[]) =>
  JSON.stringify({
    resourceType: 'Observation',
    id,
    meta: { security: codes.map((code) => ({ system: CONF, code, display: code })) },
    status: 'final',
    code: { text: id },
  });

describe('migration 010', () => {
  it('fills resource.sealed from the stored labels, then refuses rows written without it', async () => {
    const url = await createTestDatabase();
    const pool = createPool(url, 2);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await migrate(
        pool,
        listMigrations().filter((m) => m.version < 10),
      );
      const version = async (type: string, id: string, n: number, content: string | null) => {
        const { rows } = await client.query(
          `INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, content)
           VALUES ($1, $2, $3, now(), $4, $5) RETURNING seq`,
          [type, id, n, content === null ? 'DELETE' : 'PUT', content],
        );
        await client.query(
          `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, seq, content, patients)
           VALUES ($1, $2, $3, now(), $4, $5, $6, '{}')
           ON CONFLICT (resource_type, id) DO UPDATE SET version_id = $3, deleted = $4, seq = $5, content = $6`,
          [type, id, n, content === null, rows[0].seq, content],
        );
      };
      await version('Observation', 'r', 1, obs('r', 'R'));
      await version('Observation', 'v', 1, obs('v', 'N', 'V', 'R'));
      await version('Observation', 'open', 1, obs('open', 'N'));
      await version('Observation', 'gone', 1, obs('gone', 'V'));
      await version('Observation', 'gone', 2, null);
      await version('Provenance', 'prov', 1, JSON.stringify({ resourceType: 'Provenance', id: 'prov' }));
      await client.query(
        `INSERT INTO sp_reference (resource_type, id, code, target, target_type, target_id)
         VALUES ('Provenance', 'prov', 'target', 'Observation/r/_history/1', 'Observation', 'r')`,
      );

      expect(await migrate(pool)).toContain('010_sealed_and_shares');
      const { rows } = await client.query('SELECT resource_type, id, sealed FROM resource ORDER BY resource_type, id');
      expect(rows.map((r) => `${r.resource_type}/${r.id} ${r.sealed}`)).toEqual([
        'Observation/gone 2',
        'Observation/open 0',
        'Observation/r 1',
        'Observation/v 2',
        'Provenance/prov 1',
      ]);
      await expect(version('Observation', 'old-node', 1, obs('old-node', 'R'))).rejects.toThrow(/sealed/);
    } finally {
      await client.end();
      await pool.end();
    }
  });
});
