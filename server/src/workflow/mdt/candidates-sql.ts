/**
 * The MDT list's candidates in SQL (run by store/mdt.ts): for everyone on the
 * team's caseload, every Flag, the latest RiskAssessment of each method and
 * the open Tasks past due or marked breached. Each resource must pass the
 * caller's access filter (search/access.ts) as a search would: a sealed Task
 * or Flag of a person the caller may see is not a reason shown to them.
 */
import { accessClause, type AccessFilter } from '../../search/access.ts';
import { SqlBuilder, type CompiledSql } from '../../search/sql.ts';
import { MDT_CASELOAD } from '../../store/mdt.ts';

export interface MdtCandidatesQuery {
  teamId: string;
  openStatuses: string[];
  now: string;
  breachExtension: string;
  access?: AccessFilter;
}

export function compileMdtCandidates(q: MdtCandidatesQuery): CompiledSql {
  const sql = new SqlBuilder();
  // $1 is the team (MDT_CASELOAD).
  sql.bind(q.teamId);
  const statuses = sql.bind(q.openStatuses);
  const now = sql.bind(q.now);
  const breach = sql.bind(q.breachExtension);
  /** Current resources of a type about caseload patients that the caller may see, by their `patient` reference. */
  const about = (type: string) => {
    const visible = accessClause(sql, 'r', q.access, [type]);
    return (
      `sp_reference x JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id AND NOT r.deleted` +
      ` WHERE x.resource_type = '${type}' AND x.code = 'patient' AND x.target_type = 'Patient'` +
      ` AND x.target_id IN (SELECT patient FROM caseload)${visible ? ` AND ${visible}` : ''}`
    );
  };
  const text =
    `WITH caseload AS (${MDT_CASELOAD}),` +
    ` flags AS (SELECT x.target_id AS patient, r.content FROM ${about('Flag')}),` +
    ` risks AS (SELECT DISTINCT ON (x.target_id, r.content::jsonb -> 'method') x.target_id AS patient, r.content` +
    ` FROM ${about('RiskAssessment')}` +
    ` AND coalesce(r.content::jsonb ->> 'status', '') NOT IN ('entered-in-error', 'cancelled')` +
    ` ORDER BY x.target_id, r.content::jsonb -> 'method',` +
    ` (SELECT max(d.hi) FROM sp_date d WHERE d.resource_type = r.resource_type AND d.id = r.id AND d.code = 'date')` +
    ` DESC NULLS LAST, r.last_updated DESC),` +
    ` tasks AS (SELECT x.target_id AS patient, r.content FROM ${about('Task')}` +
    ` AND EXISTS (SELECT 1 FROM sp_token s WHERE s.resource_type = 'Task' AND s.id = r.id AND s.code = 'status'` +
    ` AND s.value = ANY(${statuses}::text[]))` +
    ` AND (EXISTS (SELECT 1 FROM sp_date d WHERE d.resource_type = 'Task' AND d.id = r.id AND d.code = 'due'` +
    ` AND d.lo < ${now}::timestamptz) OR r.content LIKE '%' || ${breach} || '%'))` +
    ` SELECT patient, content FROM flags` +
    ` UNION ALL SELECT patient, content FROM risks` +
    ` UNION ALL SELECT patient, content FROM tasks`;
  return { text, values: sql.values };
}
