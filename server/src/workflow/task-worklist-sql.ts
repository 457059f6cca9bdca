/**
 * The task worklist in SQL (compiled here, run by store/task-worklist.ts):
 * one narrow row per current Task (migration 019) with its owner, status and
 * the time-independent inputs of the priority score, and each person's latest
 * risk (patient_risk), worked out from the search index when a write changes
 * them. "My tasks" and "team tasks" (`Task?owner=…&status=…`) then find the
 * owner's rows by one index, and the priority score (priority-score-sql.ts)
 * reads one row per task and its person's risk, adding the
 * points that grow with time (overdue, due soon, waiting) at the request's
 * time. Reading the index per task per request cost ~0.2 ms a task (an owner
 * with 500 tasks: ~120 ms warm; docs/benchmarks.md).
 */
import { hasScheme, parseReferenceTarget, underBase } from '../fhir/reference.ts';
import type { SearchFilter } from '../search/parse.ts';
import { unsealedResource } from '../search/access.ts';
import type { FilterProjection } from '../search/projection.ts';
import { indexRowsOf, SqlBuilder, type CompiledSql } from '../search/sql.ts';
import { latestRiskSql } from './risk-sql.ts';

/** The index rows of `code` of the Task aliased t. */
const own = (alias: string, code: string) => indexRowsOf(alias, 'Task', 't.id', code);

/** The worklist rows of some Tasks (all current Tasks when none are named). */
export function compileWorklistRows(taskIds?: string[]): CompiledSql {
  const sql = new SqlBuilder();
  const scope = taskIds ? ` AND t.id = ANY(${sql.bind(taskIds)}::text[])` : '';
  const text =
    `SELECT t.id,` +
    ` (SELECT x.target_id FROM sp_reference x WHERE ${own('x', '_patient')} AND x.target_type = 'Patient'` +
    ` ORDER BY x.target_id LIMIT 1),` +
    ` ow.target_type, ow.target_id,` +
    ` (SELECT min(x.value) FROM sp_token x WHERE ${own('x', 'status')}),` +
    ` (SELECT min(x.value) FROM sp_token x WHERE ${own('x', 'priority')}),` +
    ` (SELECT min(x.lo) FROM sp_date x WHERE ${own('x', 'due')}),` +
    ` (SELECT min(x.lo) FROM sp_date x WHERE ${own('x', 'authored-on')}),` +
    ` COALESCE((SELECT array_agg(x.target_id ORDER BY x.target_id) FROM sp_reference x` +
    ` WHERE ${own('x', 'part-of')} AND x.target_type = 'Task'), '{}'),` +
    ` (SELECT min(x.lo) FROM sp_date x WHERE ${own('x', 'period')})` +
    ` FROM resource t` +
    ` LEFT JOIN LATERAL (SELECT x.target_type, x.target_id FROM sp_reference x` +
    ` WHERE ${own('x', 'owner')} AND x.target_id IS NOT NULL ORDER BY x.target_type, x.target_id LIMIT 1) ow ON true` +
    ` WHERE t.resource_type = 'Task' AND NOT t.deleted${scope}`;
  return { text, values: sql.values };
}

/**
 * Each person's latest risk (of some patients; of everyone assessed when none are named). Sealed assessments
 * are left out, as in the caseload (auth/sealing.ts): a score's reasons show nobody what they may not see.
 */
export function compilePatientRiskRows(patientIds?: string[]): CompiledSql {
  const sql = new SqlBuilder();
  const patients = patientIds
    ? `SELECT unnest(${sql.bind(patientIds)}::text[]) AS patient_id`
    : `SELECT DISTINCT x.target_id AS patient_id FROM sp_reference x` +
      ` WHERE x.resource_type = 'RiskAssessment' AND x.code = '_patient' AND x.target_type = 'Patient'`;
  const unsealed = ` AND ${unsealedResource('RiskAssessment', 'x.id')}`;
  const text =
    `SELECT p.patient_id, risk.risk_code FROM (${patients}) p` +
    ` CROSS JOIN LATERAL (${latestRiskSql('p.patient_id', unsealed)}) risk WHERE risk.risk_code IS NOT NULL`;
  return { text, values: sql.values };
}

/** A plain token value with no system (`status=requested`), or undefined. */
function plainCodes(filter: SearchFilter): string[] | undefined {
  if (filter.modifier || filter.path || filter.values.some((v) => v.value.includes('|') || !v.value)) return undefined;
  return filter.values.map((v) => v.value);
}

/** The owner values as (type?, id), or undefined when one is not a local reference the worklist holds. */
function owners(filter: SearchFilter, baseUrl: string): { type?: string; id: string }[] | undefined {
  if (filter.path) return undefined;
  const typed = filter.modifier && /^[A-Z]/.test(filter.modifier) ? filter.modifier : undefined;
  if (filter.modifier && !typed) return undefined;
  const out: { type?: string; id: string }[] = [];
  for (const { value } of filter.values) {
    const local = underBase(value, baseUrl);
    if (!value || hasScheme(local)) return undefined;
    const target = parseReferenceTarget(local);
    if (target) {
      if (typed && typed !== target.resourceType) continue; // matches nothing, as the index does
      out.push({ type: target.resourceType, id: target.id });
    } else {
      out.push({ type: typed, id: local });
    }
  }
  return out;
}

/**
 * `Task?owner=…` (with `status=…` if given) answered from the worklist: the owner's rows by index
 * (owner_id, status) instead of the owner's index rows and a status probe per task. Other filters, and owners
 * or statuses the worklist cannot answer (external or logical references, modifiers, systems), stay with the
 * index tables.
 */
export const taskWorklistProjection: FilterProjection = {
  resourceType: 'Task',
  table: 'task_worklist',
  // Task.priority and Task.executionPeriod are single: the row's value is the one the index sorts by.
  sortable: { priority: 'priority', period: 'period_start' },
  serve(sql, filters, baseUrl, w) {
    const ownerFilters = filters.flatMap((f) => {
      const values = f.code === 'owner' && f.type === 'reference' ? owners(f, baseUrl) : undefined;
      return values ? [{ filter: f, values }] : [];
    });
    if (!ownerFilters.length) return undefined;
    const statusFilters = filters.flatMap((f) => {
      const codes = f.code === 'status' ? plainCodes(f) : undefined;
      return codes ? [{ filter: f, codes }] : [];
    });
    const conditions = ownerFilters.map(({ values }) => {
      const each = values.map(({ type, id }) =>
        type
          ? `(${w}.owner_id = ${sql.bind(id)} AND ${w}.owner_type = ${sql.bind(type)})`
          : `${w}.owner_id = ${sql.bind(id)}`,
      );
      return each.length ? `(${each.join(' OR ')})` : 'false';
    });
    for (const { codes } of statusFilters) conditions.push(`${w}.status = ANY(${sql.bind(codes)}::text[])`);
    return {
      condition: conditions.join(' AND '),
      served: [...ownerFilters.map((o) => o.filter), ...statusFilters.map((s) => s.filter)],
    };
  },
};
