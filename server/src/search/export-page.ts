/**
 * One page of a Bulk Data export of one type (jobs/export-run.ts): the
 * current, undeleted resources the caller may see (the same WHERE as a search
 * of the type, access included), matching any of the `_typeFilter` queries,
 * changed after `_since`, in the compartments of the export's patients,
 * existing at the job's pin, after the last id written, in id order. Keyset
 * paging on the primary key: a page costs the same at the millionth row as at
 * the first.
 */
import type { SearchRequest } from './parse.ts';
import { existedAt } from './order.ts';
import { whereClause, type CompileOptions } from './compile.ts';
import { SqlBuilder, type CompiledSql } from './sql.ts';

export interface ExportPage {
  resourceType: string;
  /** One per `_typeFilter` query (a row matching any is exported), or one without filters. */
  requests: SearchRequest[];
  afterId: string;
  /** resource_version.seq at kick-off: resources created later are left out. */
  pin: number;
  count: number;
  since?: string;
  /** 'any': resources in some patient's compartment (Patient level); a list: in one of theirs (Group, `patient`). */
  patients?: 'any' | string[];
}

export function compileExportPage(page: ExportPage, options: CompileOptions): CompiledSql {
  const sql = new SqlBuilder();
  const clauses = [
    `r.resource_type = ${sql.bind(page.resourceType)}`,
    `r.id > ${sql.bind(page.afterId)}`,
    existedAt(sql, page.pin),
  ];
  if (page.since) clauses.push(`r.last_updated > ${sql.bind(page.since)}::timestamptz`);
  if (page.patients === 'any') clauses.push('cardinality(r.patients) > 0');
  else if (page.patients) clauses.push(`r.patients && (SELECT ${sql.bind(page.patients)}::text[])`);
  const matches = page.requests.map((request) => `(${whereClause(sql, request, options)})`);
  clauses.push(matches.length === 1 ? matches[0] : `(${matches.join(' OR ')})`);
  return {
    text: `SELECT r.id, r.content FROM resource r WHERE ${clauses.join(' AND ')} ORDER BY r.id LIMIT ${sql.bind(page.count)}`,
    values: sql.values,
  };
}
