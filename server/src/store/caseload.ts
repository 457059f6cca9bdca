/**
 * The caseload summary table (migration 015; SQL compiled in
 * workflow/caseload-sql.ts): a page of a team's caseload, and the refresh of
 * the rows of some patients in a write's transaction.
 */
import type pg from 'pg';
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';
import { ensureSummaryBuilt, lockPatients, markSummaryStale } from './summaries.ts';

export interface CaseloadRow {
  episode_id: string;
  patient_id: string;
  coordinator_type: string | null;
  coordinator_id: string | null;
  open_tasks: number;
  next_due: Date | null;
  next_task: string | null;
  last_contact: Date | null;
  plan_id: string | null;
  assessment_id: string | null;
  risk_code: string | null;
  probability: string | null;
  total: number;
  patient: string | null;
  coordinator: string | null;
  plan: string | null;
  next_task_content: string | null;
}

const COLUMNS =
  'resource_type, id, team_id, patient_id, patients, sealed, coordinator_type, coordinator_id, family, open_tasks,' +
  ' next_due, next_task, last_contact, plan_id, assessment_id, risk_code, probability, risk_rank';

export async function runCaseload(db: Queryable, sql: CompiledSql): Promise<CaseloadRow[]> {
  const result = await db.query<CaseloadRow>(sql.text, sql.values);
  return result.rows;
}

/**
 * Replaces the summary rows of `patientIds` (sorted) with `rows` (compileCaseloadRows of the same patients).
 * Two transactions refreshing one patient take turns (lockPatients), so the second deletes what the first
 * inserted instead of colliding with it.
 */
export async function refreshCaseload(db: Queryable, patientIds: string[], rows: CompiledSql): Promise<void> {
  if (!patientIds.length) return;
  await lockPatients(db, patientIds);
  await db.query('DELETE FROM caseload_entry WHERE patient_id = ANY($1::text[])', [patientIds]);
  await db.query(`INSERT INTO caseload_entry (${COLUMNS}) ${rows.text}`, rows.values);
}

/** Fills the table once (after migration 015, or after a reindex marked it stale). */
export function ensureCaseloadBuilt(pool: pg.Pool, rows: CompiledSql): Promise<boolean> {
  return ensureSummaryBuilt(pool, 'caseload_state', [{ table: 'caseload_entry', columns: COLUMNS, rows }]);
}

export function markCaseloadStale(db: Queryable): Promise<void> {
  return markSummaryStale(db, 'caseload_state');
}
