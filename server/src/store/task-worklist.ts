/**
 * The task worklist table (migration 019; SQL compiled in
 * workflow/task-worklist-sql.ts): the refresh of some Tasks' rows in a
 * write's transaction, and its build.
 */
import type pg from 'pg';
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';
import { ensureSummaryBuilt, lockPatients, markSummaryStale, type SummaryTable } from './summaries.ts';

const COLUMNS = 'id, patient_id, owner_type, owner_id, status, priority, due, authored, part_of, risk_code';

export const TASK_WORKLIST: SummaryTable = { table: 'task_worklist', state: 'task_worklist_state', columns: COLUMNS };

/**
 * Replaces the rows of `taskIds` and of every Task about `patientIds` with `rows` (compileWorklistRows of the
 * same). `lockedPatients`: every person those Tasks are about, taken in turn (lockPatients) so a Task and its
 * person's new RiskAssessment written at once leave the row with the risk both committed.
 */
export async function refreshWorklist(
  db: Queryable,
  which: { taskIds: string[]; patientIds: string[]; lockedPatients: string[] },
  rows: CompiledSql,
): Promise<void> {
  if (which.lockedPatients.length) await lockPatients(db, which.lockedPatients);
  await db.query('DELETE FROM task_worklist WHERE id = ANY($1::text[]) OR patient_id = ANY($2::text[])', [
    which.taskIds,
    which.patientIds,
  ]);
  await db.query(
    `INSERT INTO task_worklist (${COLUMNS}) ${rows.text} ON CONFLICT (id) DO UPDATE SET` +
      ' patient_id = EXCLUDED.patient_id, owner_type = EXCLUDED.owner_type, owner_id = EXCLUDED.owner_id,' +
      ' status = EXCLUDED.status, priority = EXCLUDED.priority, due = EXCLUDED.due, authored = EXCLUDED.authored,' +
      ' part_of = EXCLUDED.part_of, risk_code = EXCLUDED.risk_code',
    rows.values,
  );
}

export function ensureWorklistBuilt(pool: pg.Pool, rows: CompiledSql): Promise<boolean> {
  return ensureSummaryBuilt(pool, TASK_WORKLIST, rows);
}

export function markWorklistStale(db: Queryable): Promise<void> {
  return markSummaryStale(db, TASK_WORKLIST);
}
