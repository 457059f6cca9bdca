/**
 * The task worklist and each person's latest risk (migration 019; SQL
 * compiled in workflow/task-worklist-sql.ts): their refresh in a write's
 * transaction, and their build.
 */
import type pg from 'pg';
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';
import { ensureSummaryBuilt, lockPatients, markSummaryStale } from './summaries.ts';

const TASK_COLUMNS = 'id, patient_id, owner_type, owner_id, status, priority, due, authored, part_of, period_start';

/** Replaces the rows of `taskIds` with `rows` (compileWorklistRows of the same): a Task's row is its own. */
export async function refreshWorklist(db: Queryable, taskIds: string[], rows: CompiledSql): Promise<void> {
  await db.query('DELETE FROM task_worklist WHERE id = ANY($1::text[])', [taskIds]);
  await db.query(`INSERT INTO task_worklist (${TASK_COLUMNS}) ${rows.text}`, rows.values);
}

/**
 * Replaces the latest risk of `patientIds` (sorted) with `rows` (compilePatientRiskRows of the same). Two
 * transactions writing one person's assessments take turns (lockPatients), so the second works the latest out
 * after the first committed, from what both wrote.
 */
export async function refreshPatientRisk(db: Queryable, patientIds: string[], rows: CompiledSql): Promise<void> {
  await lockPatients(db, patientIds);
  await db.query('DELETE FROM patient_risk WHERE patient_id = ANY($1::text[])', [patientIds]);
  await db.query(`INSERT INTO patient_risk (patient_id, risk_code) ${rows.text}`, rows.values);
}

/** Fills both tables once (after the migration, or after a reindex marked them stale). */
export function ensureWorklistBuilt(pool: pg.Pool, tasks: CompiledSql, risks: CompiledSql): Promise<boolean> {
  return ensureSummaryBuilt(pool, 'task_worklist_state', [
    { table: 'task_worklist', columns: TASK_COLUMNS, rows: tasks },
    { table: 'patient_risk', columns: 'patient_id, risk_code', rows: risks },
  ]);
}

export function markWorklistStale(db: Queryable): Promise<void> {
  return markSummaryStale(db, 'task_worklist_state');
}
