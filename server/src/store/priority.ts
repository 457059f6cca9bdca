/** Runs the priority-score context query (workflow/priority-score-sql.ts): per Task, the person's risk and whether it blocks another. */
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

export interface PriorityContextRow {
  id: string;
  risk_code: string | null;
  blocking: boolean;
}

export async function readPriorityContext(db: Queryable, sql: CompiledSql): Promise<Map<string, PriorityContextRow>> {
  const result = await db.query<PriorityContextRow>(sql.text, sql.values);
  return new Map(result.rows.map((row) => [row.id, row]));
}
