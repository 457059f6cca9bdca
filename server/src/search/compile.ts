/**
 * Compiles a SearchRequest into SQL over the resource table and the sp_* index
 * tables. Every value is a bound parameter; each filter becomes an EXISTS on its
 * index table, OR-values inside it, AND across filters.
 */
import { FhirError } from '../fhir/errors.ts';
import { dateRange } from './dates.ts';
import { normalizeString } from './normalize.ts';
import { parseValue, type Prefix, type SearchFilter, type SearchRequest, type SearchValue } from './parse.ts';
import { splitCompositeValue, type CompositeSpec } from './composite.ts';
import { compileHops } from './chain.ts';
import { scopeClauses } from './scope.ts';
import { DERIVED_TOKEN_MODIFIERS, derivedTokenCode } from './tokens.ts';
import { expandValueSet } from '../validation/valuesets.ts';
import { existedAt, pageQuery } from './order.ts';
import { requestTime } from './computed.ts';
import { SqlBuilder, type CompiledSql } from './sql.ts';
import { hasScheme, parseReferenceTarget, underBase } from '../fhir/reference.ts';
import { accessClause, type AccessFilter } from './access.ts';
import { filterProjection, type ProjectionDriver } from './projection.ts';

const TABLE_BY_TYPE: Record<string, string> = {
  token: 'sp_token',
  string: 'sp_string',
  reference: 'sp_reference',
  date: 'sp_date',
  number: 'sp_number',
  quantity: 'sp_quantity',
  uri: 'sp_uri',
};

export interface CompileOptions extends AccessFilter {
  /** Base URL of this server: absolute references under it are local. */
  baseUrl: string;
  /** Each row also carries its patients (for the audit trail). */
  withPatients?: boolean;
  /** The time computed parameters are worked out at (computed.ts). */
  at?: Date;
}

export type { AccessFilter };

/** The page query: current, undeleted matches in sort order from the cursor (order.ts), one row more than the page. */
export function compileSearch(request: SearchRequest, options: CompileOptions): CompiledSql {
  const sql = new SqlBuilder();
  const { where, driver } = matching(sql, request, options, true);
  return { text: pageQuery(sql, request, where, options.withPatients ?? false, driver), values: sql.values };
}

/** All matches (at the pin of the request's cursor, if it has one). */
export function compileCount(request: SearchRequest, options: CompileOptions): CompiledSql {
  const sql = new SqlBuilder();
  let where = whereClause(sql, request, options);
  if (request.cursor) where += ` AND ${existedAt(sql, request.cursor.pin)}`;
  return { text: `SELECT count(*)::int AS n FROM resource r WHERE ${where}`, values: sql.values };
}

/** What a row must meet to match the request (its scope, not deleted, the caller's access, every filter). */
export function whereClause(sql: SqlBuilder, request: SearchRequest, compileOptions: CompileOptions): string {
  return matching(sql, request, compileOptions, false).where;
}

/** The alias of a filter projection's row (projection.ts). */
const PROJECTED = 'proj';

/**
 * The match condition on `r`; with `drive`, the filters a projection serves are left to its rows, which then
 * drive the page query (the caller joins them), and are otherwise a sub-select of them.
 */
function matching(
  sql: SqlBuilder,
  request: SearchRequest,
  compileOptions: CompileOptions,
  drive: boolean,
): { where: string; driver?: ProjectionDriver } {
  const options = { ...compileOptions, at: requestTime(request) };
  const clauses = [...scopeClauses(sql, request), 'NOT r.deleted'];
  const access = accessClause(sql, 'r', options, request.resourceTypes ?? [request.resourceType]);
  if (access) clauses.push(access);
  let filters = request.filters;
  const projection = request.resourceTypes ? undefined : filterProjection(request.resourceType);
  const projected = projection?.serve(sql, filters, options.baseUrl, PROJECTED);
  let driver: ProjectionDriver | undefined;
  if (projection && projected) {
    if (drive) driver = { projection, alias: PROJECTED, condition: projected.condition };
    else
      clauses.push(
        `r.id IN (SELECT ${PROJECTED}.id FROM ${projection.table} ${PROJECTED} WHERE ${projected.condition})`,
      );
    filters = filters.filter((f) => !projected.served.includes(f));
  }
  for (const filter of filters) clauses.push(filterClause(sql, filter, options));
  return { where: clauses.join(' AND '), driver };
}

function filterClause(sql: SqlBuilder, filter: SearchFilter, options: CompileOptions): string {
  if (filter.path) {
    // Every resource a hop reaches is one the caller may see: its patients, and its owner if it is owned.
    const visible = (alias: string) => accessClause(sql, alias, options);
    return compileHops(sql, filter.path, 'r', (alias) => leafClause(sql, filter, options, alias), visible);
  }
  return leafClause(sql, filter, options, 'r');
}

/** The parameter itself, on the resource aliased `r` (the searched one, or the end of a chain). */
function leafClause(sql: SqlBuilder, filter: SearchFilter, options: CompileOptions, r: string): string {
  if (filter.code === '_id') return or(filter.values.map((v) => `${r}.id = ${sql.bind(v.value)}`));
  if (filter.code === '_lastUpdated') {
    return or(filter.values.map((v) => dateCondition(sql, v, `${r}.last_updated`, `${r}.last_updated`)));
  }
  if (filter.composite) return compositeClause(sql, filter, filter.composite, options, r);
  if (filter.computed) return computedClause(sql, filter, () => filter.computed!.sql(sql, r, options.at ?? new Date()));
  const derived = filter.modifier && DERIVED_TOKEN_MODIFIERS.has(filter.modifier);
  const table = derived ? 'sp_token' : TABLE_BY_TYPE[filter.type];
  const code = derived ? derivedTokenCode(filter.code, filter.modifier!) : filter.code;
  const owner = `x.resource_type = ${r}.resource_type AND x.id = ${r}.id AND x.code = ${sql.bind(code)}`;
  if (filter.modifier === 'missing') {
    const exists = presentClause(sql, filter, table, owner, r);
    return filter.values[0].value === 'true' ? `NOT ${exists}` : exists;
  }
  const conditions = or(filter.values.map((v) => valueCondition(sql, filter, v, options)));
  if (filter.modifier === 'not' || filter.modifier === 'not-in')
    return `NOT EXISTS (SELECT 1 FROM ${table} x WHERE ${owner} AND ${conditions})`;
  return `EXISTS (SELECT 1 FROM ${table} x WHERE ${owner} AND ${conditions})`;
}

/** A computed parameter (computed.ts) compared as a number; :missing is never true (every resource has a value). */
function computedClause(sql: SqlBuilder, filter: SearchFilter, value: () => string): string {
  // Nothing bound for :missing (a bound placeholder PostgreSQL never sees used has no type).
  if (filter.modifier === 'missing') return filter.values[0].value === 'true' ? 'FALSE' : 'TRUE';
  const expression = value();
  return or(filter.values.map((v) => numberCondition(sql, v, expression, expression)));
}

/** The parameter has a value; a reference may be logical only (Reference.identifier, indexed as a token). */
function presentClause(sql: SqlBuilder, filter: SearchFilter, table: string, owner: string, r: string): string {
  const exists = `EXISTS (SELECT 1 FROM ${table} x WHERE ${owner})`;
  if (filter.type !== 'reference') return exists;
  const code = sql.bind(derivedTokenCode(filter.code, 'identifier'));
  return `(${exists} OR EXISTS (SELECT 1 FROM sp_token x WHERE x.resource_type = ${r}.resource_type AND x.id = ${r}.id AND x.code = ${code}))`;
}

function valueCondition(sql: SqlBuilder, filter: SearchFilter, v: SearchValue, options: CompileOptions): string {
  switch (filter.modifier) {
    case 'identifier':
      return tokenCondition(sql, v.value);
    case 'of-type':
      return ofTypeCondition(sql, v.value);
    case 'in':
    case 'not-in':
      return valueSetCondition(sql, v.value);
  }
  switch (filter.type) {
    case 'token':
      return filter.modifier === 'text'
        ? `lower(x.text) LIKE ${sql.bind(likePrefix(v.value.toLowerCase()))}`
        : tokenCondition(sql, v.value);
    case 'string':
      if (filter.modifier === 'exact') return `x.value = ${sql.bind(v.value)}`;
      if (filter.modifier === 'contains') return `x.norm LIKE ${sql.bind(`%${escapeLike(normalizeString(v.value))}%`)}`;
      return `x.norm LIKE ${sql.bind(likePrefix(normalizeString(v.value)))}`;
    case 'reference':
      return referenceCondition(sql, filter, v.value, options);
    case 'date':
      return dateCondition(sql, v, 'x.lo', 'x.hi');
    case 'number':
      return numberCondition(sql, v, 'x.lo', 'x.hi');
    case 'quantity':
      return quantityCondition(sql, v);
    case 'uri':
      if (filter.modifier === 'below') return `x.value LIKE ${sql.bind(likePrefix(v.value))}`;
      if (filter.modifier === 'above') return `${sql.bind(v.value)} LIKE (x.value || '%')`;
      return `x.value = ${sql.bind(v.value)}`;
    default:
      throw new FhirError('not-supported', `Search parameter type ${filter.type} is not supported`);
  }
}

/** Each value `first$second`: the second component's condition under the index code of the first (composite.ts). */
function compositeClause(
  sql: SqlBuilder,
  filter: SearchFilter,
  spec: CompositeSpec,
  options: CompileOptions,
  r: string,
): string {
  return or(
    filter.values.map((v) => {
      const { code, second } = splitCompositeValue(spec, v.value, options.baseUrl);
      const component: SearchFilter = {
        name: filter.name,
        code,
        type: spec.secondType,
        values: [parseValue(spec.secondType, second, undefined)],
      };
      return leafClause(sql, component, options, r);
    }),
  );
}

/** `Identifier.type` system|code|value (token :of-type), against the rows extract.ts derives for it. */
function ofTypeCondition(sql: SqlBuilder, raw: string): string {
  const [system, code, ...value] = raw.split('|');
  if (!system || !code || !value.length || !value.join('|')) {
    throw new FhirError('invalid', `:of-type takes type-system|type-code|identifier-value, not "${raw}"`);
  }
  return `(x.system = ${sql.bind(system)} AND x.value = ${sql.bind(`${code}|${value.join('|')}`)})`;
}

/** A coding in the ValueSet (token :in; NOT EXISTS of it for :not-in); `code` values carry no system. */
function valueSetCondition(sql: SqlBuilder, url: string): string {
  const expansion = expandValueSet(url);
  if (!expansion) throw new FhirError('invalid', `ValueSet ${url} is not known to this server, or cannot be expanded`);
  const systems: string[] = [];
  const codes: string[] = [];
  for (const [system, inSystem] of expansion.bySystem) {
    for (const code of inSystem) {
      systems.push(system);
      codes.push(code);
    }
  }
  return (
    `((x.system, x.value) IN (SELECT * FROM unnest(${sql.bind(systems)}::text[], ${sql.bind(codes)}::text[]))` +
    ` OR (x.system IS NULL AND x.value = ANY(${sql.bind([...expansion.codes])}::text[])))`
  );
}

function tokenCondition(sql: SqlBuilder, raw: string): string {
  const bar = raw.indexOf('|');
  if (bar < 0) return `x.value = ${sql.bind(raw)}`;
  const system = raw.slice(0, bar);
  const code = raw.slice(bar + 1);
  if (system === '') return `(x.system IS NULL AND x.value = ${sql.bind(code)})`;
  if (code === '') return `x.system = ${sql.bind(system)}`;
  return `(x.system = ${sql.bind(system)} AND x.value = ${sql.bind(code)})`;
}

function referenceCondition(sql: SqlBuilder, filter: SearchFilter, raw: string, options: CompileOptions): string {
  const typed = filter.modifier && /^[A-Z]/.test(filter.modifier) ? filter.modifier : undefined;
  const local = underBase(raw, options.baseUrl);
  if (hasScheme(local)) return `x.target = ${sql.bind(raw)}`;
  const target = parseReferenceTarget(local);
  if (target) {
    if (typed && typed !== target.resourceType) return 'false';
    return `(x.target_type = ${sql.bind(target.resourceType)} AND x.target_id = ${sql.bind(target.id)})`;
  }
  if (typed) return `(x.target_type = ${sql.bind(typed)} AND x.target_id = ${sql.bind(local)})`;
  return `x.target_id = ${sql.bind(local)}`;
}

/**
 * Date prefixes over ranges (R4 search "date"): the target [lo, hi] against the
 * implicit range of the search value [vlo, vhi].
 */
function dateCondition(sql: SqlBuilder, v: SearchValue, lo: string, hi: string): string {
  const range = dateRange(v.value);
  return rangeCondition(
    v.prefix,
    lo,
    hi,
    bindOnce(sql, range.lo, 'timestamptz'),
    bindOnce(sql, range.hi, 'timestamptz'),
  );
}

/** A placeholder bound on first use: a parameter PostgreSQL never sees used has no type. */
function bindOnce(sql: SqlBuilder, value: unknown, type: string): () => string {
  let placeholder: string | undefined;
  return () => (placeholder ??= `${sql.bind(value)}::${type}`);
}

type Bound = () => string;

function rangeCondition(prefix: Prefix, lo: string, hi: string, vlo: Bound, vhi: Bound): string {
  switch (prefix) {
    case 'eq':
      // lo <= vhi follows from the rest (lo <= hi); it bounds the index range scan on lo.
      return `(${lo} >= ${vlo()} AND ${lo} <= ${vhi()} AND ${hi} <= ${vhi()})`;
    case 'ne':
      return `NOT (${lo} >= ${vlo()} AND ${hi} <= ${vhi()})`;
    case 'gt':
      return `${hi} > ${vhi()}`;
    case 'lt':
      return `${lo} < ${vlo()}`;
    case 'ge':
      return `${hi} >= ${vlo()}`;
    case 'le':
      return `${lo} <= ${vhi()}`;
    case 'sa':
      return `${lo} > ${vhi()}`;
    case 'eb':
      return `${hi} < ${vlo()}`;
    case 'ap':
      return `(${lo} <= ${vhi()} AND ${hi} >= ${vlo()})`;
  }
}

/** Numbers carry implicit precision: 100 means [99.5, 100.5) (R4 search "number"). */
function numberCondition(sql: SqlBuilder, v: SearchValue, lo: string, hi: string): string {
  const n = Number(v.value);
  if (v.value.trim() === '' || !Number.isFinite(n))
    throw new FhirError('invalid', `Invalid number search value "${v.value}"`);
  const decimals = v.value.includes('.') ? v.value.split('.')[1].replace(/e.*/i, '').length : 0;
  const half = v.prefix === 'ap' ? Math.abs(n) * 0.1 : 0.5 * 10 ** -decimals;
  if (v.prefix === 'eq' || v.prefix === 'ap' || v.prefix === 'ne') {
    const below = `${sql.bind(n + half)}::numeric`;
    const within = `(${lo} >= ${sql.bind(n - half)}::numeric AND ${lo} < ${below} AND ${hi} < ${below})`;
    return v.prefix === 'ne' ? `NOT ${within}` : within;
  }
  const exact = bindOnce(sql, n, 'numeric');
  return rangeCondition(v.prefix, lo, hi, exact, exact);
}

function quantityCondition(sql: SqlBuilder, v: SearchValue): string {
  const [num, system, code] = v.value.split('|');
  const parts = [numberCondition(sql, { prefix: v.prefix, value: num }, 'x.value', 'x.value')];
  if (system) parts.push(`x.system = ${sql.bind(system)}`);
  if (code) parts.push(`x.unit = ${sql.bind(code)}`);
  return `(${parts.join(' AND ')})`;
}

function or(conditions: string[]): string {
  return conditions.length === 1 ? conditions[0] : `(${conditions.join(' OR ')})`;
}

function likePrefix(value: string): string {
  return `${escapeLike(value)}%`;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
