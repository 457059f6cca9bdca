/** Runs a measure's counting statement (population/measure-sql.ts compiles it). */
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

export interface MeasureRow {
  grp: string;
  population: string;
  /** deprivation-decile | ethnicity; null for the overall count. */
  stratifier: string | null;
  stratum: string | null;
  count: number;
  mean: number | null;
  median: number | null;
  /** Subject lists only (overall rows): the counted resources (Type/id) and the people they are about. */
  items: string[] | null;
  patients: string[] | null;
}

export async function runMeasure(db: Queryable, sql: CompiledSql): Promise<MeasureRow[]> {
  const result = await db.query<MeasureRow>(sql.text, sql.values);
  return result.rows;
}
