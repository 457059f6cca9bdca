/**
 * The MDT list's reads (workflow/mdt): a team's caseload and, for everyone on
 * it, the resources that may put them on the list, in one statement over the
 * search indexes (no query per person; compiled in
 * workflow/mdt/candidates-sql.ts). What counts is decided in
 * workflow/mdt/reasons.ts; this only narrows to candidates.
 */
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

/** Patients (ids) with an active EpisodeOfCare whose team is the CareTeam (`id`, parameter $1). */
export const MDT_CASELOAD = `SELECT DISTINCT p.target_id AS patient
    FROM sp_reference t
    JOIN resource e ON e.resource_type = t.resource_type AND e.id = t.id AND NOT e.deleted
    JOIN sp_token s ON s.resource_type = t.resource_type AND s.id = t.id AND s.code = 'status' AND s.value = 'active'
    JOIN sp_reference p ON p.resource_type = t.resource_type AND p.id = t.id AND p.code = 'patient'
                       AND p.target_type = 'Patient'
   WHERE t.resource_type = 'EpisodeOfCare' AND t.code = 'team' AND t.target_type = 'CareTeam' AND t.target_id = $1`;

/**
 * For the team's caseload: every Flag, the latest RiskAssessment of each method (not entered in error or
 * cancelled), and the open Tasks due before `now` or mentioning the breach extension; with their patient's id.
 * Compiled by workflow/mdt/candidates-sql.ts (the caller's access filter on each resource).
 */
export async function readMdtCandidates(
  db: Queryable,
  query: CompiledSql,
): Promise<{ patient: string; content: string }[]> {
  const { rows } = await db.query<{ patient: string; content: string }>(query.text, query.values);
  return rows;
}

/** Of some patients (ids), those on the team's caseload. */
export async function onCaseload(db: Queryable, teamId: string, patients: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ patient: string }>({
    name: 'on-caseload',
    text: `WITH caseload AS (${MDT_CASELOAD}) SELECT patient FROM caseload WHERE patient = ANY($2::text[])`,
    values: [teamId, patients],
  });
  return new Set(rows.map((r) => r.patient));
}
