/**
 * What each measure counts, in set-based SQL over the search index (compiled
 * here, run by store/measures.ts): one row per counted thing and population
 * — `grp` (the Measure.group id), `population` (measure-population code),
 * `patient_id` (whom it is about, for the strata), `item` (Type/id, for
 * subject lists) and `observation` (a continuous-variable value). Every
 * resource row read is filtered by the caller's access (search/access.ts),
 * so a user counts only the people she may see. measures.ts says in words
 * what each population is.
 */
import { ACT_PRIORITY_SYSTEM, ADMISSION_CLASS, EMERGENCY_PRIORITY, ENCOUNTER_CLASS_SYSTEM } from './codes.ts';
import { accessClause, type AccessFilter } from '../search/access.ts';
import { indexRowsOf, type SqlBuilder } from '../search/sql.ts';
import { REFERRAL_CATEGORY_SYSTEM } from '../workflow/response-clock.ts';
import { TRIAGE_SYSTEM } from '../workflow/referral.ts';
import { OPEN_TASK_STATUSES } from '../workflow/task-state.ts';
import type { MeasureId } from './measures.ts';

export const POPULATION_GROUP_SYSTEM = 'https://hearth.example/fhir/CodeSystem/population-group';
export const COMPLEX_NEEDS = 'complex-needs';
const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
/** businessStatus codes (triage-outcome) and statuses that record a triage decision. */
export const DECISION_OUTCOMES = ['accepted', 'declined', 'redirected'];
export const DECISION_STATUSES = ['accepted', 'rejected', 'ready', 'in-progress', 'completed'];
const UCR = 'urgent-community-response';
const EPISODE_ON_CASELOAD = ['active', 'onhold', 'finished'];
const ENCOUNTER_NOT_HAPPENED = ['planned', 'cancelled', 'entered-in-error'];

export interface MeasureQuery {
  measure: MeasureId;
  /** The measurement period, inclusive (ISO instants). */
  start: string;
  end: string;
  now: Date;
  /** Narrows to a team's or an organisation's work. */
  subject?: { type: 'CareTeam' | 'Organization'; id: string };
  /** What the caller may see (auth/guard.ts filter); undefined: everything. */
  access?: AccessFilter;
}

/** The facts (grp, population, patient_id, item, observation) of the query's measure. */
export function measureFacts(sql: SqlBuilder, q: MeasureQuery): string {
  const c = new Compiler(sql, q);
  switch (q.measure) {
    case 'neighbourhood-caseload':
      return `SELECT 'caseload' AS grp, 'initial-population' AS population, cp.patient_id, 'Patient/' || cp.patient_id AS item, NULL::float8 AS observation FROM (${c.caseloadPeople()}) cp`;
    case 'referral-response-time':
      return c.responseTimes();
    case 'ucr-two-hour':
      return c.ucrTwoHour();
    case 'open-overdue-tasks':
      return c.openTasks();
    case 'cohort-emergency-admissions':
      return c.cohortAdmissions();
  }
}

class Compiler {
  private readonly start: string;
  private readonly end: string;

  constructor(
    private readonly sql: SqlBuilder,
    private readonly q: MeasureQuery,
  ) {
    this.start = `${sql.bind(q.start)}::timestamptz`;
    this.end = `${sql.bind(q.end)}::timestamptz`;
  }

  private access(alias: string, type: string): string {
    const clause = accessClause(this.sql, alias, this.q.access, [type]);
    return clause ? ` AND ${clause}` : '';
  }

  private list(values: readonly string[]): string {
    return `${this.sql.bind([...values])}::text[]`;
  }

  /** People on a caseload during the period (of the subject's team or organisation). */
  caseloadPeople(): string {
    const subject = this.q.subject;
    const team = subject?.type === 'CareTeam' ? ` AND tm.target_id = ${this.sql.bind(subject.id)}` : '';
    const org =
      subject?.type === 'Organization'
        ? ` AND EXISTS (SELECT 1 FROM sp_reference o WHERE ${indexRowsOf('o', 'EpisodeOfCare', 'e.id', 'organization')}` +
          ` AND o.target_type = 'Organization' AND o.target_id = ${this.sql.bind(subject.id)})`
        : '';
    const period = (alias: string) => indexRowsOf(alias, 'EpisodeOfCare', 'e.id', 'date');
    return (
      `SELECT DISTINCT p.target_id AS patient_id FROM resource e` +
      ` JOIN sp_reference p ON ${indexRowsOf('p', 'EpisodeOfCare', 'e.id', 'patient')} AND p.target_type = 'Patient'` +
      ` JOIN sp_token st ON ${indexRowsOf('st', 'EpisodeOfCare', 'e.id', 'status')} AND st.value = ANY(${this.list(EPISODE_ON_CASELOAD)})` +
      ` WHERE e.resource_type = 'EpisodeOfCare' AND NOT e.deleted` +
      ` AND EXISTS (SELECT 1 FROM sp_reference tm WHERE ${indexRowsOf('tm', 'EpisodeOfCare', 'e.id', 'team')} AND tm.target_type = 'CareTeam'${team})` +
      ` AND (EXISTS (SELECT 1 FROM sp_date d WHERE ${period('d')} AND d.lo <= ${this.end} AND d.hi >= ${this.start})` +
      ` OR (st.value IN ('active', 'onhold') AND NOT EXISTS (SELECT 1 FROM sp_date d WHERE ${period('d')})))` +
      `${org}${this.access('e', 'EpisodeOfCare')}`
    );
  }

  /** Tasks owned by the subject (the team or organisation itself, or a PractitionerRole of the organisation). */
  private ownedBySubject(): string {
    const subject = this.q.subject;
    if (!subject) return '';
    const id = this.sql.bind(subject.id);
    const owner = indexRowsOf('ow', 'Task', 't.id', 'owner');
    const role =
      subject.type === 'Organization'
        ? ` OR (ow.target_type = 'PractitionerRole' AND EXISTS (SELECT 1 FROM sp_reference po WHERE po.resource_type = 'PractitionerRole'` +
          ` AND po.id = ow.target_id AND po.code = 'organization' AND po.target_type = 'Organization' AND po.target_id = ${id}))`
        : '';
    return ` AND EXISTS (SELECT 1 FROM sp_reference ow WHERE ${owner} AND ((ow.target_type = '${subject.type}' AND ow.target_id = ${id})${role}))`;
  }

  /**
   * Task rows `t` the caller may see (not deleted, not entered in error) with their patient, due time and
   * authored time (`joins` defines `au` with its `lo`).
   */
  private tasks(joins: string, where: string): string {
    return (
      `SELECT t.id, tp.patient_id, du.due, au.lo AS authored FROM resource t${joins}` +
      ` LEFT JOIN LATERAL (SELECT min(x.target_id) AS patient_id FROM sp_reference x WHERE ${indexRowsOf('x', 'Task', 't.id', 'patient')} AND x.target_type = 'Patient') tp ON true` +
      ` LEFT JOIN LATERAL (SELECT min(x.lo) AS due FROM sp_date x WHERE ${indexRowsOf('x', 'Task', 't.id', 'due')}) du ON true` +
      ` WHERE t.resource_type = 'Task' AND NOT t.deleted` +
      ` AND NOT EXISTS (SELECT 1 FROM sp_token s WHERE ${indexRowsOf('s', 'Task', 't.id', 'status')} AND s.value = 'entered-in-error')` +
      `${where}${this.ownedBySubject()}${this.access('t', 'Task')}`
    );
  }

  /** Referral Tasks authored in the period, with the time of their first triage decision (from their history). */
  private referrals(ucrOnly: boolean): string {
    const joins =
      ` JOIN sp_token tc ON ${indexRowsOf('tc', 'Task', 't.id', 'code')} AND tc.system = ${this.sql.bind(TASK_CODE_SYSTEM)} AND tc.value = 'fulfill'` +
      ` JOIN sp_date au ON ${indexRowsOf('au', 'Task', 't.id', 'authored-on')} AND au.lo BETWEEN ${this.start} AND ${this.end}`;
    const ucr = ucrOnly
      ? ` AND EXISTS (SELECT 1 FROM sp_reference f JOIN sp_token sc ON sc.resource_type = 'ServiceRequest' AND sc.id = f.target_id` +
        ` AND sc.code = 'category' AND sc.system = ${this.sql.bind(REFERRAL_CATEGORY_SYSTEM)} AND sc.value = '${UCR}'` +
        ` WHERE ${indexRowsOf('f', 'Task', 't.id', 'focus')} AND f.target_type = 'ServiceRequest')`
      : '';
    const decided =
      `(j.c->>'status' = ANY(${this.list(DECISION_STATUSES)}) OR EXISTS (SELECT 1 FROM jsonb_array_elements(` +
      `CASE WHEN jsonb_typeof(j.c->'businessStatus'->'coding') = 'array' THEN j.c->'businessStatus'->'coding' ELSE '[]'::jsonb END) bc` +
      ` WHERE bc->>'system' = ${this.sql.bind(TRIAGE_SYSTEM)} AND bc->>'code' = ANY(${this.list(DECISION_OUTCOMES)})))`;
    const instant = (path: string) => `CASE WHEN ${path} ~ '^\\d{4}-\\d{2}-\\d{2}T' THEN (${path})::timestamptz END`;
    // Work that had begun (executionPeriod.start) was decided on by then: a Task first stored already closed
    // (loaded from another system) has no earlier version to say when.
    const at =
      `LEAST(coalesce(${instant("j.c->>'lastModified'")}, v.last_updated),` +
      ` ${instant("j.c->'executionPeriod'->>'start'")})`;
    return (
      `SELECT r.*, dec.decided_at FROM (${this.tasks(joins, ucr)}) r` +
      ` LEFT JOIN LATERAL (SELECT ${at} AS decided_at FROM resource_version v CROSS JOIN LATERAL (SELECT v.content::jsonb AS c) j` +
      ` WHERE v.resource_type = 'Task' AND v.id = r.id AND v.content IS NOT NULL AND ${decided}` +
      ` ORDER BY v.version_id LIMIT 1) dec ON true`
    );
  }

  /** One fact per (row, population) of `rows` (alias r) where the population's condition holds. */
  private facts(grp: string, rows: string, item: string, populations: [string, string, string?][]): string {
    const values = populations
      .map(([code, when, value]) => `('${code}', ${when}, ${value ?? 'NULL::float8'})`)
      .join(', ');
    return (
      `SELECT '${grp}' AS grp, pop.population, r.patient_id, ${item} AS item, pop.observation FROM (${rows}) r` +
      ` CROSS JOIN LATERAL (VALUES ${values}) AS pop(population, keep, observation) WHERE pop.keep`
    );
  }

  responseTimes(): string {
    const hours = `greatest(0, extract(epoch FROM r.decided_at - r.authored) / 3600.0)::float8`;
    return this.facts('response-time', this.referrals(false), `'Task/' || r.id`, [
      ['initial-population', 'true'],
      ['measure-population', 'true'],
      ['measure-population-exclusion', 'r.decided_at IS NULL'],
      ['measure-observation', 'r.decided_at IS NOT NULL', hours],
    ]);
  }

  ucrTwoHour(): string {
    const clock = `coalesce(r.due, r.authored + interval '2 hours')`;
    const now = `${this.sql.bind(this.q.now.toISOString())}::timestamptz`;
    return this.facts('ucr-two-hour', this.referrals(true), `'Task/' || r.id`, [
      ['initial-population', 'true'],
      ['denominator', 'true'],
      ['denominator-exclusion', `r.decided_at IS NULL AND ${clock} > ${now}`],
      ['numerator', `r.decided_at IS NOT NULL AND r.decided_at <= ${clock}`],
    ]);
  }

  openTasks(): string {
    const joins =
      ` JOIN sp_token ts ON ${indexRowsOf('ts', 'Task', 't.id', 'status')} AND ts.value = ANY(${this.list([...OPEN_TASK_STATUSES])})` +
      ` LEFT JOIN LATERAL (SELECT min(x.lo) AS lo FROM sp_date x WHERE ${indexRowsOf('x', 'Task', 't.id', 'authored-on')}) au ON true`;
    const first = `(SELECT v.last_updated FROM resource_version v WHERE v.resource_type = 'Task' AND v.id = t.id ORDER BY v.version_id LIMIT 1)`;
    const where = ` AND coalesce(au.lo, ${first}) BETWEEN ${this.start} AND ${this.end}`;
    const now = `${this.sql.bind(this.q.now.toISOString())}::timestamptz`;
    const rows = this.tasks(joins, where);
    return (
      `${this.facts('open', rows, `'Task/' || r.id`, [['initial-population', 'true']])} UNION ALL ` +
      this.facts('overdue', rows, `'Task/' || r.id`, [['initial-population', `r.due IS NOT NULL AND r.due < ${now}`]])
    );
  }

  /** Members of the complex-needs cohort during the period whom the caller may see (on the subject's caseload). */
  private cohortMembers(): string {
    const member = `CASE WHEN jsonb_typeof(g.content::jsonb->'member') = 'array' THEN g.content::jsonb->'member' ELSE '[]'::jsonb END`;
    const onCaseload = this.q.subject ? ` AND m.patient_id IN (${this.caseloadPeople()})` : '';
    return (
      `SELECT DISTINCT m.patient_id FROM resource g` +
      ` JOIN sp_token gc ON ${indexRowsOf('gc', 'Group', 'g.id', 'code')} AND gc.system = ${this.sql.bind(POPULATION_GROUP_SYSTEM)}` +
      ` AND gc.value = '${COMPLEX_NEEDS}'` +
      ` CROSS JOIN LATERAL jsonb_array_elements(${member}) AS mem(x)` +
      ` CROSS JOIN LATERAL (SELECT substring(mem.x->'entity'->>'reference' FROM '^Patient/([A-Za-z0-9.-]{1,64})$') AS patient_id,` +
      ` ${instant(`mem.x->'period'->>'start'`, 'start')} AS starts, ${instant(`mem.x->'period'->>'end'`, 'end')} AS ends) m` +
      ` JOIN resource p ON p.resource_type = 'Patient' AND p.id = m.patient_id AND NOT p.deleted` +
      ` WHERE g.resource_type = 'Group' AND NOT g.deleted` +
      ` AND NOT (coalesce(mem.x->>'inactive', 'false') = 'true' AND m.ends IS NULL)` +
      ` AND coalesce(m.starts, '-infinity') <= ${this.end} AND coalesce(m.ends, 'infinity') >= ${this.start}` +
      `${onCaseload}${this.access('p', 'Patient')}`
    );
  }

  cohortAdmissions(): string {
    const encounter = (alias: string, code: string) => indexRowsOf(alias, 'Encounter', 'en.id', code);
    const emergency =
      `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(en.content::jsonb->'priority'->'coding') = 'array'` +
      ` THEN en.content::jsonb->'priority'->'coding' ELSE '[]'::jsonb END) pc` +
      ` WHERE pc->>'system' = ${this.sql.bind(ACT_PRIORITY_SYSTEM)} AND pc->>'code' = '${EMERGENCY_PRIORITY}')`;
    const admissions =
      `SELECT en.id, min(ep.target_id) AS patient_id FROM resource en` +
      ` JOIN sp_reference ep ON ${encounter('ep', 'patient')} AND ep.target_type = 'Patient'` +
      ` JOIN members mb ON mb.patient_id = ep.target_id` +
      ` JOIN sp_token ec ON ${encounter('ec', 'class')} AND ec.system = ${this.sql.bind(ENCOUNTER_CLASS_SYSTEM)} AND ec.value = '${ADMISSION_CLASS}'` +
      ` JOIN sp_date ed ON ${encounter('ed', 'date')} AND ed.lo BETWEEN ${this.start} AND ${this.end}` +
      ` WHERE en.resource_type = 'Encounter' AND NOT en.deleted AND ${emergency}` +
      ` AND NOT EXISTS (SELECT 1 FROM sp_token s WHERE ${encounter('s', 'status')} AND s.value = ANY(${this.list(ENCOUNTER_NOT_HAPPENED)}))` +
      `${this.access('en', 'Encounter')} GROUP BY en.id`;
    const grp = 'emergency-admissions';
    return (
      `SELECT * FROM (WITH members AS (${this.cohortMembers()})` +
      ` SELECT '${grp}' AS grp, pop.population, mb.patient_id, 'Patient/' || mb.patient_id AS item, NULL::float8 AS observation` +
      ` FROM members mb CROSS JOIN (VALUES ('initial-population'), ('denominator')) AS pop(population)` +
      ` UNION ALL SELECT '${grp}', 'numerator', a.patient_id, 'Encounter/' || a.id, NULL::float8 FROM (${admissions}) a) cohort`
    );
  }
}

/**
 * SQL of a FHIR date/dateTime (text) as an instant: the start of its range, or for `end` the end of it
 * (a date-only end lasts the whole day, month or year); NULL when absent or not a date.
 */
function instant(text: string, side: 'start' | 'end'): string {
  const whole = (pattern: string, suffix: string, unit: string) =>
    side === 'start'
      ? `WHEN ${text} ~ '${pattern}' THEN (${text} || '${suffix}')::timestamptz`
      : `WHEN ${text} ~ '${pattern}' THEN (${text} || '${suffix}')::timestamptz + interval '1 ${unit}' - interval '1 millisecond'`;
  return (
    `(CASE WHEN ${text} ~ '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}' THEN (${text})::timestamptz` +
    ` ${whole('^\\d{4}-\\d{2}-\\d{2}$', 'T00:00:00Z', 'day')}` +
    ` ${whole('^\\d{4}-\\d{2}$', '-01T00:00:00Z', 'month')}` +
    ` ${whole('^\\d{4}$', '-01-01T00:00:00Z', 'year')} END)`
  );
}
