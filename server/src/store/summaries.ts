/**
 * Summary tables worked out from the search index (the caseload, the task
 * worklist): each has a one-row state table saying whether it is built. A
 * table is filled once after its migration, or after a reindex marked it
 * stale, under a row lock on its state, so of several nodes starting together
 * one builds it; its rows come from the same SQL as every refresh.
 */
import type pg from 'pg';
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

export interface SummaryTable {
  table: string;
  columns: string;
}

/** One table's fill: its rows (the SELECT the refreshes use, of everything). */
export interface SummaryFill extends SummaryTable {
  rows: CompiledSql;
}

/** Fills the tables of one state row if it says they are not built; true when it built them. */
export async function ensureSummaryBuilt(pool: pg.Pool, state: string, fills: SummaryFill[]): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ built: boolean }>(`SELECT built FROM ${state} FOR UPDATE`);
    if (rows[0]?.built) {
      await client.query('COMMIT');
      return false;
    }
    for (const fill of fills) {
      await client.query(`DELETE FROM ${fill.table}`);
      await client.query(`INSERT INTO ${fill.table} (${fill.columns}) ${fill.rows.text}`, fill.rows.values);
    }
    await client.query(`UPDATE ${state} SET built = true`);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Marks the tables of a state row for a rebuild (the index they are worked out from was rebuilt). */
export async function markSummaryStale(db: Queryable, state: string): Promise<void> {
  await db.query(`UPDATE ${state} SET built = false`);
}

/**
 * Two transactions refreshing rows of one patient take turns (a transaction-scoped lock per patient, in id
 * order), so the second's rows are worked out after the first committed, from what both wrote.
 */
export async function lockPatients(db: Queryable, patientIds: string[]): Promise<void> {
  await db.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('caseload:' || s.p, 0))` +
      ` FROM (SELECT p FROM unnest($1::text[]) AS p ORDER BY p) s`,
    [patientIds],
  );
}
