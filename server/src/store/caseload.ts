/** Runs the caseload query (workflow/caseload-sql.ts). */
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

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

export async function runCaseload(db: Queryable, sql: CompiledSql): Promise<CaseloadRow[]> {
  const result = await db.query<CaseloadRow>(sql.text, sql.values);
  return result.rows;
}
