/**
 * The caseload query (one statement, compiled here and run by
 * store/caseload.ts): a team's people on active EpisodeOfCare, each with its
 * care coordinator, latest risk, open tasks, next due task, last contact and
 * active care plan, read from the search index (sp_* tables) by lateral index
 * lookups, filtered, sorted and paged in SQL. Only the page's rows carry
 * content (patient, coordinator, plan, next task), so a 2,000-person caseload
 * costs one pass over the index and a page of parses.
 */
import { SqlBuilder, type CompiledSql } from '../search/sql.ts';
import { accessClause, sealedClause, type AccessFilter } from '../search/access.ts';
import { OPEN_TASK_STATUSES } from './task-state.ts';
import { latestRiskSql } from './risk-sql.ts';

export const CASELOAD_SORTS = ['name', 'risk', 'next-due', 'last-contact', 'open-tasks', 'coordinator'] as const;
export type CaseloadSort = (typeof CASELOAD_SORTS)[number];

export interface CaseloadQuery {
  teamId: string;
  /** Only people whose care coordinator is this reference (Practitioner/x or PractitionerRole/x). */
  coordinator?: { type: string; id: string };
  /** Only people whose latest risk is one of these codes (risk-probability: low, moderate, high…). */
  risk?: string[];
  /** Only people with (true) or without (false) an overdue open task. */
  overdue?: boolean;
  sort: { key: CaseloadSort; descending: boolean }[];
  count: number;
  offset: number;
  now: Date;
  /** What the caller may see (auth/guard.ts filter); undefined: no access control. */
  access?: AccessFilter;
}

/** Values of the index for one resource: `alias` rows of `table` with `code` for resource `type`/`id`. */
function own(alias: string, type: string, id: string, code: string): string {
  return `${alias}.resource_type = '${type}' AND ${alias}.id = ${id} AND ${alias}.code = '${code}'`;
}

/** Resources of `type` in the patient's compartment (the `_patient` index rows). */
function ofPatient(alias: string, type: string): string {
  return `${alias}.resource_type = '${type}' AND ${alias}.code = '_patient' AND ${alias}.target_id = ep.patient_id AND ${alias}.target_type = 'Patient'`;
}

const SORT_EXPR: Record<CaseloadSort, string> = {
  name: 'c.family COLLATE "C"',
  risk: 'c.risk_rank',
  'next-due': 'c.next_due',
  'last-contact': 'c.last_contact',
  'open-tasks': 'c.open_tasks',
  coordinator: "c.coordinator_type || '/' || c.coordinator_id",
};

export function compileCaseload(q: CaseloadQuery): CompiledSql {
  const sql = new SqlBuilder();
  const visible = accessClause(sql, 'e', q.access, ['EpisodeOfCare']);
  // A sealed task, plan or assessment the caller may not see is not counted or shown (auth/sealing.ts).
  const unsealed = (type: string, id: string) => {
    const clause = sealedClause('sr', q.access?.sealed);
    return clause
      ? ` AND EXISTS (SELECT 1 FROM resource sr WHERE sr.resource_type = '${type}' AND sr.id = ${id} AND ${clause})`
      : '';
  };
  const open = sql.bind([...OPEN_TASK_STATUSES]);
  const now = sql.bind(q.now.toISOString());
  const episodes =
    `SELECT e.id AS episode_id, p.target_id AS patient_id FROM sp_reference t` +
    ` JOIN resource e ON e.resource_type = 'EpisodeOfCare' AND e.id = t.id AND NOT e.deleted` +
    ` JOIN sp_reference p ON ${own('p', 'EpisodeOfCare', 'e.id', 'patient')} AND p.target_type = 'Patient'` +
    ` WHERE t.resource_type = 'EpisodeOfCare' AND t.code = 'team' AND t.target_id = ${sql.bind(q.teamId)}` +
    ` AND t.target_type = 'CareTeam'` +
    ` AND EXISTS (SELECT 1 FROM sp_token s WHERE ${own('s', 'EpisodeOfCare', 'e.id', 'status')} AND s.value = 'active')` +
    (visible ? ` AND ${visible}` : '');
  const people =
    `SELECT ep.episode_id, ep.patient_id, cm.target_type AS coordinator_type, cm.target_id AS coordinator_id,` +
    ` fam.family, tasks.open_tasks, tasks.next_due, tasks.next_task, contact.last_contact, plan.plan_id,` +
    ` risk.assessment_id, risk.risk_code, risk.probability, risk.risk_rank` +
    ` FROM (${episodes}) ep` +
    ` LEFT JOIN LATERAL (SELECT x.target_type, x.target_id FROM sp_reference x` +
    ` WHERE ${own('x', 'EpisodeOfCare', 'ep.episode_id', 'care-manager')} LIMIT 1) cm ON true` +
    ` LEFT JOIN LATERAL (SELECT min(x.norm) AS family FROM sp_string x WHERE ${own('x', 'Patient', 'ep.patient_id', 'family')}) fam ON true` +
    ` LEFT JOIN LATERAL (SELECT count(*)::int AS open_tasks, min(d.lo) AS next_due,` +
    ` (array_agg(tp.id ORDER BY d.lo ASC NULLS LAST, tp.id))[1] AS next_task FROM sp_reference tp` +
    ` JOIN sp_token ts ON ${own('ts', 'Task', 'tp.id', 'status')} AND ts.value = ANY(${open}::text[])` +
    ` LEFT JOIN sp_date d ON ${own('d', 'Task', 'tp.id', 'due')}` +
    ` WHERE ${ofPatient('tp', 'Task')}${unsealed('Task', 'tp.id')}) tasks ON true` +
    ` LEFT JOIN LATERAL (SELECT max(d.lo) AS last_contact FROM sp_reference x` +
    ` JOIN sp_date d ON d.resource_type = x.resource_type AND d.id = x.id` +
    ` AND d.code = CASE x.resource_type WHEN 'Communication' THEN 'sent' ELSE 'date' END` +
    ` WHERE x.resource_type IN ('Communication', 'Encounter') AND x.code = '_patient'` +
    ` AND x.target_id = ep.patient_id AND x.target_type = 'Patient' AND d.lo <= ${now}::timestamptz) contact ON true` +
    ` LEFT JOIN LATERAL (SELECT x.id AS plan_id FROM sp_reference x` +
    ` JOIN sp_token st ON ${own('st', 'CarePlan', 'x.id', 'status')} AND st.value = 'active'` +
    ` WHERE ${ofPatient('x', 'CarePlan')}${unsealed('CarePlan', 'x.id')}` +
    ` ORDER BY EXISTS (SELECT 1 FROM sp_reference ct WHERE ${own('ct', 'CarePlan', 'x.id', 'care-team')}` +
    ` AND ct.target_id = ${sql.bind(q.teamId)} AND ct.target_type = 'CareTeam') DESC, x.id LIMIT 1) plan ON true` +
    ` LEFT JOIN LATERAL (${latestRiskSql('ep.patient_id', unsealed('RiskAssessment', 'x.id'))}) risk ON true`;

  const filters: string[] = [];
  if (q.coordinator) {
    filters.push(
      `c.coordinator_type = ${sql.bind(q.coordinator.type)} AND c.coordinator_id = ${sql.bind(q.coordinator.id)}`,
    );
  }
  if (q.risk?.length) filters.push(`c.risk_code = ANY(${sql.bind(q.risk)}::text[])`);
  if (q.overdue !== undefined) {
    const overdue = `(c.next_due IS NOT NULL AND c.next_due < ${now}::timestamptz)`;
    filters.push(q.overdue ? overdue : `NOT ${overdue}`);
  }
  const order = [
    ...q.sort.map((s) => `${SORT_EXPR[s.key]} ${s.descending ? 'DESC' : 'ASC'} NULLS LAST`),
    'c.patient_id',
  ].join(', ');
  const page =
    `SELECT c.*, count(*) OVER ()::int AS total FROM (${people}) c` +
    (filters.length ? ` WHERE ${filters.join(' AND ')}` : '') +
    ` ORDER BY ${order} LIMIT ${sql.bind(q.count)} OFFSET ${sql.bind(q.offset)}`;
  // Contents for the page's rows only.
  const text =
    `SELECT pg.*, pt.content AS patient, co.content AS coordinator, pl.content AS plan, nt.content AS next_task_content` +
    ` FROM (${page}) pg` +
    ` LEFT JOIN resource pt ON pt.resource_type = 'Patient' AND pt.id = pg.patient_id AND NOT pt.deleted` +
    ` LEFT JOIN resource co ON co.resource_type = pg.coordinator_type AND co.id = pg.coordinator_id AND NOT co.deleted` +
    ` LEFT JOIN resource pl ON pl.resource_type = 'CarePlan' AND pl.id = pg.plan_id AND NOT pl.deleted` +
    ` LEFT JOIN resource nt ON nt.resource_type = 'Task' AND nt.id = pg.next_task AND NOT nt.deleted` +
    ` ORDER BY ${order.replace(/c\./g, 'pg.')}`;
  return { text, values: sql.values };
}
