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

/** A summary row as a refresh found or left it: its key and its whole content as text (to tell a change). */
export interface CaseloadPrint {
  team: string;
  episode: string;
  patient: string;
  row: string;
}

const PRINT = 'RETURNING team_id AS team, id AS episode, patient_id AS patient, caseload_entry::text AS row';

/**
 * Replaces the summary rows of `patientIds` (sorted) with `rows` (compileCaseloadRows of the same patients).
 * Two transactions refreshing one patient take turns (lockPatients), so the second deletes what the first
 * inserted instead of colliding with it. With `compare`, returns the rows before and after (else none).
 */
export async function refreshCaseload(
  db: Queryable,
  patientIds: string[],
  rows: CompiledSql,
  compare = false,
): Promise<{ before: CaseloadPrint[]; after: CaseloadPrint[] }> {
  if (!patientIds.length) return { before: [], after: [] };
  const returning = compare ? ` ${PRINT}` : '';
  await lockPatients(db, patientIds);
  const before = await db.query<CaseloadPrint>(
    `DELETE FROM caseload_entry WHERE patient_id = ANY($1::text[])${returning}`,
    [patientIds],
  );
  const after = await db.query<CaseloadPrint>(
    `INSERT INTO caseload_entry (${COLUMNS}) ${rows.text}${returning}`,
    rows.values,
  );
  return compare ? { before: before.rows, after: after.rows } : { before: [], after: [] };
}

/** The current versions of some EpisodeOfCare (the foci of caseload events). */
export async function readEpisodes(
  db: Queryable,
  ids: string[],
): Promise<{ id: string; versionId: number; content: string }[]> {
  if (!ids.length) return [];
  const { rows } = await db.query<{ id: string; version_id: number; content: string }>(
    `SELECT id, version_id, content FROM resource
      WHERE resource_type = 'EpisodeOfCare' AND id = ANY($1::text[]) AND NOT deleted`,
    [ids],
  );
  return rows.map((r) => ({ id: r.id, versionId: r.version_id, content: r.content }));
}

/** Fills the table once (after migration 015, or after a reindex marked it stale). */
export function ensureCaseloadBuilt(pool: pg.Pool, rows: CompiledSql): Promise<boolean> {
  return ensureSummaryBuilt(pool, 'caseload_state', [{ table: 'caseload_entry', columns: COLUMNS, rows }]);
}

export function markCaseloadStale(db: Queryable): Promise<void> {
  return markSummaryStale(db, 'caseload_state');
}
