/**
 * The caseload in SQL (compiled here, run by store/caseload.ts). Each active
 * EpisodeOfCare's summary (care coordinator, latest risk, open tasks, next due
 * task, last contact, active care plan) is worked out from the search index
 * (sp_* tables) by lateral index lookups when a write changes it, and kept in
 * `caseload_entry` (one row per episode and team, migration 015): a team's
 * caseload page is then one indexed query over its rows, filtered by the
 * caller's access, sorted and paged in SQL, with content read for the page's
 * rows only. Working the summaries out per request cost ~0.12 ms per person
 * (a 2,000-person team: ~250 ms warm; docs/benchmarks.md).
 */
import { indexRowsOf, SqlBuilder, type CompiledSql } from '../search/sql.ts';
import { accessClause, unsealedResource, type AccessFilter } from '../search/access.ts';
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

/**
 * The summary rows of the active episodes of some patients (all when none are named), one per episode and
 * team, worked out from the search index: what `caseload_entry` holds (store/caseload.ts refreshes it in the
 * transaction of every write that can change it). Sealed tasks, plans and assessments are left out, so the
 * summary shows nobody what they may not see (auth/sealing.ts).
 */
export function compileCaseloadRows(patientIds?: string[]): CompiledSql {
  const sql = new SqlBuilder();
  const unsealed = (type: string, id: string) => ` AND ${unsealedResource(type, id)}`;
  const open = sql.bind([...OPEN_TASK_STATUSES]);
  const which = patientIds ? ` AND p.target_id = ANY(${sql.bind(patientIds)}::text[])` : '';
  const episodes =
    `SELECT e.id AS episode_id, e.patients, e.sealed, p.target_id AS patient_id, t.target_id AS team_id` +
    ` FROM sp_reference p` +
    ` JOIN resource e ON e.resource_type = 'EpisodeOfCare' AND e.id = p.id AND NOT e.deleted` +
    ` JOIN sp_reference t ON ${indexRowsOf('t', 'EpisodeOfCare', 'e.id', 'team')} AND t.target_type = 'CareTeam'` +
    ` WHERE p.resource_type = 'EpisodeOfCare' AND p.code = 'patient' AND p.target_type = 'Patient'${which}` +
    ` AND EXISTS (SELECT 1 FROM sp_token s WHERE ${indexRowsOf('s', 'EpisodeOfCare', 'e.id', 'status')} AND s.value = 'active')`;
  const text =
    `SELECT 'EpisodeOfCare' AS resource_type, ep.episode_id AS id, ep.team_id, ep.patient_id, ep.patients, ep.sealed,` +
    ` cm.target_type AS coordinator_type, cm.target_id AS coordinator_id,` +
    ` fam.family, tasks.open_tasks, tasks.next_due, tasks.next_task, contact.last_contact, plan.plan_id,` +
    ` risk.assessment_id, risk.risk_code, risk.probability, risk.risk_rank` +
    ` FROM (${episodes}) ep` +
    ` LEFT JOIN LATERAL (SELECT x.target_type, x.target_id FROM sp_reference x` +
    ` WHERE ${indexRowsOf('x', 'EpisodeOfCare', 'ep.episode_id', 'care-coordinator')} LIMIT 1) cm ON true` +
    ` LEFT JOIN LATERAL (SELECT min(x.norm) AS family FROM sp_string x WHERE ${indexRowsOf('x', 'Patient', 'ep.patient_id', 'family')}) fam ON true` +
    ` LEFT JOIN LATERAL (SELECT count(*)::int AS open_tasks, min(d.lo) AS next_due,` +
    ` (array_agg(tp.id ORDER BY d.lo ASC NULLS LAST, tp.id))[1] AS next_task FROM sp_reference tp` +
    ` JOIN sp_token ts ON ${indexRowsOf('ts', 'Task', 'tp.id', 'status')} AND ts.value = ANY(${open}::text[])` +
    ` LEFT JOIN sp_date d ON ${indexRowsOf('d', 'Task', 'tp.id', 'due')}` +
    ` WHERE ${ofPatient('tp', 'Task')}${unsealed('Task', 'tp.id')}) tasks ON true` +
    ` LEFT JOIN LATERAL (SELECT max(d.lo) AS last_contact FROM sp_reference x` +
    ` JOIN sp_date d ON d.resource_type = x.resource_type AND d.id = x.id` +
    ` AND d.code = CASE x.resource_type WHEN 'Communication' THEN 'sent' ELSE 'date' END` +
    ` WHERE x.resource_type IN ('Communication', 'Encounter') AND x.code = '_patient'` +
    ` AND x.target_id = ep.patient_id AND x.target_type = 'Patient') contact ON true` +
    ` LEFT JOIN LATERAL (SELECT x.id AS plan_id FROM sp_reference x` +
    ` JOIN sp_token st ON ${indexRowsOf('st', 'CarePlan', 'x.id', 'status')} AND st.value = 'active'` +
    ` WHERE ${ofPatient('x', 'CarePlan')}${unsealed('CarePlan', 'x.id')}` +
    ` ORDER BY EXISTS (SELECT 1 FROM sp_reference ct WHERE ${indexRowsOf('ct', 'CarePlan', 'x.id', 'care-team')}` +
    ` AND ct.target_id = ep.team_id AND ct.target_type = 'CareTeam') DESC, x.id LIMIT 1) plan ON true` +
    ` LEFT JOIN LATERAL (${latestRiskSql('ep.patient_id', unsealed('RiskAssessment', 'x.id'))}) risk ON true`;
  return { text, values: sql.values };
}

/** A page of a team's caseload from `caseload_entry`, filtered by the caller's access, with the page's contents. */
export function compileCaseload(q: CaseloadQuery): CompiledSql {
  const sql = new SqlBuilder();
  const visible = accessClause(sql, 'c', q.access, ['EpisodeOfCare']);
  const filters = [`c.team_id = ${sql.bind(q.teamId)}`];
  if (visible) filters.push(visible);
  if (q.coordinator) {
    filters.push(
      `c.coordinator_type = ${sql.bind(q.coordinator.type)} AND c.coordinator_id = ${sql.bind(q.coordinator.id)}`,
    );
  }
  if (q.risk?.length) filters.push(`c.risk_code = ANY(${sql.bind(q.risk)}::text[])`);
  if (q.overdue !== undefined) {
    const overdue = `(c.next_due IS NOT NULL AND c.next_due < ${sql.bind(q.now.toISOString())}::timestamptz)`;
    filters.push(q.overdue ? overdue : `NOT ${overdue}`);
  }
  const order = [
    ...q.sort.map((s) => `${SORT_EXPR[s.key]} ${s.descending ? 'DESC' : 'ASC'} NULLS LAST`),
    'c.patient_id',
  ].join(', ');
  const page =
    `SELECT c.*, c.id AS episode_id, count(*) OVER ()::int AS total FROM caseload_entry c` +
    ` WHERE ${filters.join(' AND ')}` +
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
