/**
 * A measure's counts by population, overall and per stratum, in one SQL
 * statement (run by store/measures.ts): the measure's facts
 * (measure-facts-sql.ts) each take the deprivation decile and ethnic category
 * of the person they are about from the search index (Patient's
 * `deprivation-decile` and `ethnicity` parameters; "unknown" when absent),
 * then GROUPING SETS count them per population, per population and decile,
 * and per population and ethnicity, with the mean and median of observations.
 */
import { ETHNIC_CATEGORY_SYSTEM } from './codes.ts';
import { SqlBuilder, type CompiledSql } from '../search/sql.ts';
import { measureFacts, type MeasureQuery } from './measure-facts-sql.ts';

export const UNKNOWN = 'unknown';

export function compileMeasure(q: MeasureQuery, subjectList: boolean): CompiledSql {
  const sql = new SqlBuilder();
  const facts = measureFacts(sql, q);
  const ethnicSystem = sql.bind(ETHNIC_CATEGORY_SYSTEM);
  const overall = 'GROUPING(decile) = 1 AND GROUPING(ethnicity) = 1';
  const lists = subjectList
    ? `CASE WHEN ${overall} THEN array_agg(DISTINCT item) END AS items,` +
      ` CASE WHEN ${overall} THEN array_agg(DISTINCT patient_id) FILTER (WHERE patient_id IS NOT NULL) END AS patients`
    : 'NULL::text[] AS items, NULL::text[] AS patients';
  const text =
    `WITH facts AS (${facts}), s AS (SELECT f.*, coalesce(dd.decile, '${UNKNOWN}') AS decile,` +
    ` coalesce(ee.code, '${UNKNOWN}') AS ethnicity FROM facts f` +
    ` LEFT JOIN LATERAL (SELECT round(min(n.lo))::int::text AS decile FROM sp_number n WHERE n.resource_type = 'Patient'` +
    ` AND n.id = f.patient_id AND n.code = 'deprivation-decile' AND n.lo BETWEEN 1 AND 10) dd ON true` +
    ` LEFT JOIN LATERAL (SELECT min(t.value) AS code FROM sp_token t WHERE t.resource_type = 'Patient'` +
    ` AND t.id = f.patient_id AND t.code = 'ethnicity' AND t.system = ${ethnicSystem}) ee ON true)` +
    ` SELECT grp, population,` +
    ` CASE WHEN GROUPING(decile) = 0 THEN 'deprivation-decile' WHEN GROUPING(ethnicity) = 0 THEN 'ethnicity' END AS stratifier,` +
    ` CASE WHEN GROUPING(decile) = 0 THEN decile WHEN GROUPING(ethnicity) = 0 THEN ethnicity END AS stratum,` +
    ` count(*)::int AS count, avg(observation)::float8 AS mean,` +
    ` (percentile_cont(0.5) WITHIN GROUP (ORDER BY observation))::float8 AS median, ${lists}` +
    ` FROM s GROUP BY GROUPING SETS ((grp, population), (grp, population, decile), (grp, population, ethnicity))`;
  return { text, values: sql.values };
}
