/** Executes compiled search SQL (the search module builds it; only store/ runs SQL). */
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

export interface SearchRow {
  id: string;
  content: string;
  /** Sort-key values of the row as text (for paging cursors). */
  keys: (string | null)[];
  /** On a first page: the newest version number when it was read (pins later pages). */
  pin?: string | number | null;
  /** The row's patients, when asked for (CompileOptions.withPatients). */
  patients?: string[];
}

export async function runSearch(db: Queryable, sql: CompiledSql): Promise<SearchRow[]> {
  const { rows } = await db.query<SearchRow>(sql.text, sql.values);
  return rows;
}

export async function runCount(db: Queryable, sql: CompiledSql): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql.text, sql.values);
  return rows[0].n;
}

export interface IncludedRow {
  resource_type: string;
  id: string;
  content: string;
  /** The patients it is about (for the audit trail). */
  patients: string[];
}

export async function runIncludeStep(db: Queryable, sql: CompiledSql): Promise<IncludedRow[]> {
  const { rows } = await db.query<IncludedRow>(sql.text, sql.values);
  return rows;
}
