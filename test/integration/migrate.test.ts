/** Migrations: applied once, in order, safely when several nodes start together; runnable on their own. */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../server/src/store/database.ts';
import { listMigrations, migrate } from '../../server/src/store/migrate.ts';
import { createTestDatabase } from '../support/server.ts';

describe('migrations', () => {
  it('are numbered and applied exactly once, even by concurrent starters', async () => {
    const url = await createTestDatabase();
    const pools = [createPool(url, 2), createPool(url, 2), createPool(url, 2)];
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      const all = listMigrations().map((m) => m.name);
      expect(all[0]).toBe('001_resources');
      expect(results.flat().sort()).toEqual(all.sort());
      expect(await migrate(pools[0])).toEqual([]);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query('SELECT version FROM schema_migration ORDER BY version');
      await client.end();
      expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});
