/**
 * Computed search parameters: a value worked out in SQL when the search runs
 * (it may depend on the time, e.g. a task's priority score grows as it goes
 * overdue), so it has no rows in the index. Declared by a SearchParameter
 * without an expression (fhir-profiles) and registered here by the module that
 * owns the rule (workflow/). They sort (`_sort`) and filter like a number
 * parameter. Every use in one search sees the same time: the request's `at`,
 * to the minute (so the pages of a search agree within a minute; see
 * cursor.ts on sort keys that change between pages).
 */
import type { Extension, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/resources.ts';
import type { SearchRequest } from './parse.ts';
import type { SqlBuilder } from './sql.ts';

export interface ComputedParameter {
  resourceType: string;
  code: string;
  /** SQL of the value (numeric) for the resource aliased `r`, at time `at`. */
  sql(sql: SqlBuilder, r: string, at: Date): string;
  /**
   * The same value from the row of a filter projection (projection.ts) aliased `alias`, for a search that
   * projection drives: the page is then sorted before any resource is read.
   */
  projected?: { table: string; sql(sql: SqlBuilder, alias: string, at: Date): string };
  /**
   * For a search sorted by it: why each matched resource has its value (an extension on the entry's
   * `search`), keyed by id.
   */
  explain?(db: Queryable, resources: Resource[], at: Date): Promise<Map<string, Extension>>;
}

const registered = new Map<string, ComputedParameter>();

export function registerComputedParameter(parameter: ComputedParameter): void {
  registered.set(`${parameter.resourceType}.${parameter.code}`, parameter);
}

export function computedParameter(resourceType: string, code: string): ComputedParameter | undefined {
  return registered.get(`${resourceType}.${code}`);
}

/** The request's time for computed values (set on first use, to the minute). */
export function requestTime(request: SearchRequest): Date {
  if (!request.at) {
    const now = new Date();
    now.setUTCSeconds(0, 0);
    request.at = now;
  }
  return request.at;
}
