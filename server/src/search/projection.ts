/**
 * Filter projections: a summary table kept current on write that answers some
 * filters of a search by one index instead of the index tables (the task
 * worklist answers `Task?owner=…&status=…`). Registered by the module that
 * owns the table (workflow/); the compiler asks the searched type's
 * projection which filters it serves and uses its condition in their place,
 * so the matches are the same, found faster. A page query is driven by the
 * projection's rows (order.ts): it joins the resource to them, and when every
 * sort key can be worked out from the row (computed.ts `projected`), it sorts
 * the rows first and reads only the resources of the page.
 */
import type { SearchFilter } from './parse.ts';
import type { SqlBuilder } from './sql.ts';

export interface FilterProjection {
  resourceType: string;
  /** The table, one row per resource, keyed by `id`. */
  table: string;
  /**
   * Search parameters (single-valued on the type) the row holds as the index does (the lowest value for a
   * token, a date's `lo`), so the page can be sorted by them from the row: code -> column.
   */
  sortable?: Readonly<Record<string, string>>;
  /** The condition on the table's row aliased `alias` replacing the filters it serves, or undefined if it serves none. */
  serve(
    sql: SqlBuilder,
    filters: SearchFilter[],
    baseUrl: string,
    alias: string,
  ): { condition: string; served: SearchFilter[] } | undefined;
}

/** The projection's rows that drive a page query (order.ts). */
export interface ProjectionDriver {
  projection: FilterProjection;
  alias: string;
  /** What `serve` gave for the request's filters. */
  condition: string;
}

const registered = new Map<string, FilterProjection>();

export function registerFilterProjection(projection: FilterProjection): void {
  registered.set(projection.resourceType, projection);
}

export function filterProjection(resourceType: string): FilterProjection | undefined {
  return registered.get(resourceType);
}
