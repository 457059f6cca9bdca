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
  state: string;
  columns: string;
}

export async function ensureSummaryBuilt(pool: pg.Pool, summary: SummaryTable, rows: CompiledSql): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows: state } = await client.query<{ built: boolean }>(`SELECT built FROM ${summary.state} FOR UPDATE`);
    if (state[0]?.built) {
      await client.query('COMMIT');
      return false;
    }
    await client.query(`DELETE FROM ${summary.table}`);
    await client.query(`INSERT INTO ${summary.table} (${summary.columns}) ${rows.text}`, rows.values);
    await client.query(`UPDATE ${summary.state} SET built = true`);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Marks the table for a rebuild (the index it is worked out from was rebuilt). */
export async function markSummaryStale(db: Queryable, summary: SummaryTable): Promise<void> {
  await db.query(`UPDATE ${summary.state} SET built = false`);
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
