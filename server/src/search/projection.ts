/**
 * Filter projections: a summary table kept current on write that answers some
 * filters of a search by one index instead of the index tables (the task
 * worklist answers `Task?owner=…&status=…`). Registered by the module that
 * owns the table (workflow/); the compiler asks the searched type's
 * projection which filters it serves and uses its clause on `r` in their
 * place, so the matches are the same, found faster.
 */
import type { SearchFilter } from './parse.ts';
import type { SqlBuilder } from './sql.ts';

export interface FilterProjection {
  resourceType: string;
  /** The clause (on the resource aliased `r`) replacing the filters it serves, or undefined if it serves none. */
  serve(
    sql: SqlBuilder,
    filters: SearchFilter[],
    baseUrl: string,
  ): { clause: string; served: SearchFilter[] } | undefined;
}

const registered = new Map<string, FilterProjection>();

export function registerFilterProjection(projection: FilterProjection): void {
  registered.set(projection.resourceType, projection);
}

export function filterProjection(resourceType: string): FilterProjection | undefined {
  return registered.get(resourceType);
}
