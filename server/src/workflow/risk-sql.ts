/**
 * SQL of a person's latest risk (the caseload and the task priority score
 * read it the same way): their RiskAssessment with the latest `date` (not
 * entered in error), its qualitative risk code and probability, from the
 * search index.
 */
import { indexRowsOf } from '../search/sql.ts';

/** Risk codes (http://terminology.hl7.org/CodeSystem/risk-probability) in rising order. */
export const RISK_RANK: Readonly<Record<string, number>> = { negligible: 1, low: 2, moderate: 3, high: 4, certain: 5 };

/** A subquery (for a LATERAL join) of one row: assessment_id, risk_code, probability, risk_rank; `andWhere` narrows the assessments (x). */
export function latestRiskSql(patientId: string, andWhere = ''): string {
  const own = (alias: string, code: string) => indexRowsOf(alias, 'RiskAssessment', 'x.id', code);
  const rank = `CASE rk.value ${Object.entries(RISK_RANK)
    .map(([code, n]) => `WHEN '${code}' THEN ${n}`)
    .join(' ')} END`;
  return (
    `SELECT x.id AS assessment_id, rk.value AS risk_code, pr.lo AS probability, ${rank} AS risk_rank` +
    ` FROM sp_reference x` +
    ` LEFT JOIN sp_date rd ON ${own('rd', 'date')}` +
    ` LEFT JOIN sp_token rk ON ${own('rk', 'risk')}` +
    ` LEFT JOIN sp_number pr ON ${own('pr', 'probability')}` +
    ` WHERE x.resource_type = 'RiskAssessment' AND x.code = '_patient' AND x.target_id = ${patientId}` +
    ` AND x.target_type = 'Patient'` +
    ` AND NOT EXISTS (SELECT 1 FROM sp_token s WHERE ${own('s', 'status')} AND s.value = 'entered-in-error')${andWhere}` +
    ` ORDER BY rd.lo DESC NULLS LAST, x.id DESC LIMIT 1`
  );
}
