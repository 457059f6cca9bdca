/**
 * Sort order and keyset paging of a search (R4 `_sort`, paging links). The
 * order is total: the `_sort` keys, then id. A page continues from a cursor row
 * with a seek condition on (keys…, id), never an OFFSET (see cursor.ts for the
 * guarantees under concurrent writes).
 */
import { getSearchParameters } from '@medplum/core';
import { FhirError } from '../fhir/errors.ts';
import type { Cursor } from './cursor.ts';
import { computedParameter, requestTime } from './computed.ts';
import type { SearchRequest } from './parse.ts';
import type { ProjectionDriver } from './projection.ts';
import type { SqlBuilder } from './sql.ts';

interface SortKey {
  /** SQL of the key's value for row r (or the driving projection's row, if `projected`). */
  expr: string;
  /** PostgreSQL type of the value (to bind cursor values). */
  type: string;
  descending: boolean;
  /** Worked out from the driving projection's row alone. */
  projected?: boolean;
}

/** Sortable parameter types: the index column sorted on, and its type. */
const SORT_COLUMN: Record<string, [table: string, column: string, type: string]> = {
  string: ['sp_string', 'norm', 'text'],
  token: ['sp_token', 'value', 'text'],
  date: ['sp_date', 'lo', 'timestamptz'],
  number: ['sp_number', 'lo', 'numeric'],
  quantity: ['sp_quantity', 'value', 'numeric'],
  uri: ['sp_uri', 'value', 'text'],
  reference: ['sp_reference', 'target', 'text'],
};

/**
 * The sort keys of a request. A parameter with several values sorts by its
 * lowest value ascending and its highest descending (R4 search "_sort");
 * resources without a value sort last either way.
 */
function sortKeys(sql: SqlBuilder, request: SearchRequest, driver?: ProjectionDriver): SortKey[] {
  return request.sort.map(({ code, descending }) => {
    if (code === '_id')
      return { expr: driver ? `${driver.alias}.id` : 'r.id', type: 'text', descending, projected: true };
    if (code === '_lastUpdated') return { expr: 'r.last_updated', type: 'timestamptz', descending };
    const computed = computedParameter(request.resourceType, code);
    if (computed && driver && computed.projected?.table === driver.projection.table) {
      const expr = computed.projected.sql(sql, driver.alias, requestTime(request));
      return { expr, type: 'numeric', descending, projected: true };
    }
    if (computed) return { expr: computed.sql(sql, 'r', requestTime(request)), type: 'numeric', descending };
    const [table, column, type] = SORT_COLUMN[sortableType(request.resourceType, code)];
    // Text sorts by code point (collation "C"), whatever the database's locale, so the order is the same everywhere.
    const collated = (value: string) => (type === 'text' ? `${value} COLLATE "C"` : value);
    const held = driver?.projection.sortable?.[code];
    if (driver && held) return { expr: collated(`${driver.alias}.${held}`), type, descending, projected: true };
    const agg = descending ? 'max' : 'min';
    const value = collated(`x.${column}`);
    const expr =
      `(SELECT ${agg}(${value}) FROM ${table} x` +
      ` WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = ${sql.bind(code)})`;
    return { expr, type, descending };
  });
}

function sortableType(resourceType: string, code: string): string {
  const type = getSearchParameters(resourceType)?.[code]?.type;
  if (!type || !SORT_COLUMN[type]) throw new FhirError('invalid', `Cannot sort ${resourceType} by "${code}"`);
  return type;
}

/**
 * Wraps the filtered rows (`FROM resource r WHERE where`) into the page query:
 * id, content, the sort-key values as text (for the next cursor) and, on a
 * first page, the pin; if asked, the row's patients; seek condition from the cursor; one row more than the
 * page to tell whether another follows. A backward cursor reads in reverse
 * order (the caller reverses the rows). A filter projection's rows (`driver`)
 * drive the query when it serves some filters: joined to the resource; and
 * when every sort key comes from them, sorted (and sought from the cursor)
 * first, so only the resources of the page are read.
 */
export function pageQuery(
  sql: SqlBuilder,
  request: SearchRequest,
  where: string,
  withPatients: boolean,
  driver?: ProjectionDriver,
): string {
  const keys = sortKeys(sql, request, driver);
  const cursor = request.cursor;
  const back = cursor?.back ?? false;
  const pinned = cursor ? ` AND ${existedAt(sql, cursor.pin)}` : '';
  const order = (alias: string) => [
    ...keys.map((k, i) => {
      const descending = k.descending !== back;
      return `${alias}.k${i} ${descending ? 'DESC' : 'ASC'} NULLS ${back ? 'FIRST' : 'LAST'}`;
    }),
    `${alias}.id ${back ? 'DESC' : 'ASC'}`,
  ];
  // The row's patients, read with the page for the audit trail.
  const extra = withPatients ? ['r.patients'] : [];
  const keyColumns = (expr: (k: SortKey, i: number) => string) => keys.map((k, i) => `${expr(k, i)} AS k${i}`);
  let inner: string;
  let seek = '';
  if (driver && keys.every((k) => k.projected)) {
    const rows = `SELECT ${[`${driver.alias}.id`, ...keyColumns((k) => k.expr)].join(', ')} FROM ${driver.projection.table} ${driver.alias} WHERE ${driver.condition}`;
    const sought = cursor ? ` WHERE ${seekCondition(sql, keys, cursor, 'd0')}` : '';
    // OFFSET 0 keeps the sorted rows a subquery of their own: the join reads resources in that order, page first.
    const sorted = `SELECT * FROM (${rows}) d0${sought} ORDER BY ${order('d0').join(', ')} OFFSET 0`;
    const columns = ['r.id', 'r.content', ...keys.map((_, i) => `d.k${i}`), ...extra];
    inner = `SELECT ${columns.join(', ')} FROM (${sorted}) d JOIN resource r ON r.id = d.id WHERE ${where}${pinned}`;
  } else {
    // A system search spans types, so its rows are told apart (and paged) by Type/id.
    const id = request.resourceTypes ? `r.resource_type || '/' || r.id AS id` : 'r.id';
    const columns = [id, 'r.content', ...keyColumns((k) => k.expr), ...extra];
    const from = driver
      ? `${driver.projection.table} ${driver.alias} JOIN resource r ON r.id = ${driver.alias}.id`
      : 'resource r';
    const condition = driver ? `${driver.condition} AND ${where}` : where;
    inner = `SELECT ${columns.join(', ')} FROM ${from} WHERE ${condition}${pinned}`;
    // A placeholder PostgreSQL never sees used has no type: bound only in the text that uses it.
    if (cursor) seek = ` WHERE ${seekCondition(sql, keys, cursor, 's')}`;
  }
  const patients = withPatients ? ', s.patients' : '';
  const keyArray = keys.length ? `ARRAY[${keys.map((_, i) => `s.k${i}::text`).join(', ')}]` : 'ARRAY[]::text[]';
  const pin = cursor ? '' : ', (SELECT max(seq) FROM resource_version) AS pin';
  return (
    `SELECT s.id, s.content, ${keyArray} AS keys${pin}${patients} FROM (${inner}) s${seek}` +
    ` ORDER BY ${order('s').join(', ')} LIMIT ${sql.bind(request.count + 1)}`
  );
}

/** The resource existed when paging began (its current version, or an earlier one, is at or before the pin). */
export function existedAt(sql: SqlBuilder, pin: number): string {
  const p = sql.bind(pin);
  return (
    `(r.seq <= ${p} OR EXISTS (SELECT 1 FROM resource_version v` +
    ` WHERE v.resource_type = r.resource_type AND v.id = r.id AND v.seq <= ${p}))`
  );
}

/**
 * Rows strictly after the cursor row in the reading order: after on the first
 * key, or equal on it and after on the rest, down to id. Nulls sort last
 * reading forward (and so first reading backward).
 */
function seekCondition(sql: SqlBuilder, keys: SortKey[], cursor: Cursor, alias: string): string {
  const back = cursor.back;
  let condition = `${alias}.id ${back ? '<' : '>'} ${sql.bind(cursor.id)}`;
  for (let i = keys.length - 1; i >= 0; i--) {
    const column = `${alias}.k${i}`;
    const raw = cursor.keys[i];
    const ascending = !keys[i].descending !== back;
    let after: string;
    let equal: string;
    if (raw === null) {
      equal = `${column} IS NULL`;
      after = back ? `${column} IS NOT NULL` : 'FALSE';
    } else {
      const value = `${sql.bind(raw)}::${keys[i].type}`;
      equal = `${column} = ${value}`;
      const beyond = `${column} ${ascending ? '>' : '<'} ${value}`;
      after = back ? beyond : `(${beyond} OR ${column} IS NULL)`;
    }
    condition = `(${after} OR (${equal} AND ${condition}))`;
  }
  return condition;
}
