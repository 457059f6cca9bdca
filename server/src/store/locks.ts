/** Transaction-scoped advisory locks. */
import type pg from 'pg';

/** Serialises conditional creates/updates on the same criteria until the transaction ends. */
export async function lockConditional(client: pg.PoolClient, key: string): Promise<void> {
  await client.query({
    name: 'lock-conditional',
    text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
    values: [key],
  });
}
