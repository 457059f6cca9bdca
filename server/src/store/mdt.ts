/**
 * SQL of the MDT list (workflow/mdt): a team's caseload and, for everyone on
 * it, the resources that may put them on the list, in one statement over the
 * search indexes (no query per person). What counts is decided in
 * workflow/mdt/reasons.ts; this only narrows to candidates.
 */
import type { Queryable } from './resources.ts';

/** Patients (ids) with an active EpisodeOfCare whose team is the CareTeam (`id`). */
const CASELOAD = `SELECT DISTINCT p.target_id AS patient
    FROM sp_reference t
    JOIN resource e ON e.resource_type = t.resource_type AND e.id = t.id AND NOT e.deleted
    JOIN sp_token s ON s.resource_type = t.resource_type AND s.id = t.id AND s.code = 'status' AND s.value = 'active'
    JOIN sp_reference p ON p.resource_type = t.resource_type AND p.id = t.id AND p.code = 'patient'
                       AND p.target_type = 'Patient'
   WHERE t.resource_type = 'EpisodeOfCare' AND t.code = 'team' AND t.target_type = 'CareTeam' AND t.target_id = $1`;

/** Current resources of a type about caseload patients, by their `patient` reference. */
const about = (type: string) => `sp_reference x
    JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id AND NOT r.deleted
   WHERE x.resource_type = '${type}' AND x.code = 'patient' AND x.target_type = 'Patient'
     AND x.target_id IN (SELECT patient FROM caseload)`;

const MDT_CANDIDATES = `WITH caseload AS (${CASELOAD}),
flags AS (
  SELECT x.target_id AS patient, r.content FROM ${about('Flag')}
),
risks AS (
  SELECT DISTINCT ON (x.target_id, r.content::jsonb -> 'method') x.target_id AS patient, r.content
    FROM ${about('RiskAssessment')}
     AND coalesce(r.content::jsonb ->> 'status', '') NOT IN ('entered-in-error', 'cancelled')
   ORDER BY x.target_id, r.content::jsonb -> 'method',
     (SELECT max(d.hi) FROM sp_date d WHERE d.resource_type = r.resource_type AND d.id = r.id AND d.code = 'date')
       DESC NULLS LAST, r.last_updated DESC
),
tasks AS (
  SELECT x.target_id AS patient, r.content FROM ${about('Task')}
     AND EXISTS (SELECT 1 FROM sp_token s WHERE s.resource_type = 'Task' AND s.id = r.id AND s.code = 'status'
                   AND s.value = ANY($2::text[]))
     AND (EXISTS (SELECT 1 FROM sp_date d WHERE d.resource_type = 'Task' AND d.id = r.id AND d.code = 'due'
                    AND d.lo < $3::timestamptz)
          OR r.content LIKE '%' || $4 || '%')
)
SELECT patient, content FROM flags
UNION ALL SELECT patient, content FROM risks
UNION ALL SELECT patient, content FROM tasks`;

/**
 * For the team's caseload: every Flag, the latest RiskAssessment of each method (not entered in error or
 * cancelled), and the open Tasks due before `now` or mentioning the breach extension; with their patient's id.
 */
export async function readMdtCandidates(
  db: Queryable,
  teamId: string,
  options: { openStatuses: string[]; now: string; breachExtension: string },
): Promise<{ patient: string; content: string }[]> {
  const { rows } = await db.query<{ patient: string; content: string }>({
    name: 'mdt-candidates',
    text: MDT_CANDIDATES,
    values: [teamId, options.openStatuses, options.now, options.breachExtension],
  });
  return rows;
}

/** Of some patients (ids), those on the team's caseload. */
export async function onCaseload(db: Queryable, teamId: string, patients: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ patient: string }>({
    name: 'on-caseload',
    text: `WITH caseload AS (${CASELOAD}) SELECT patient FROM caseload WHERE patient = ANY($2::text[])`,
    values: [teamId, patients],
  });
  return new Set(rows.map((r) => r.patient));
}
