/**
 * Read by id with its audit record in the same statement (audit/inline.ts):
 * the current row, and, when it is not a deletion and the caller sees it (the
 * access clause, search/access.ts), its audit rows inserted (one per patient
 * in its `patients`, or one without a patient). One round trip; the rows
 * commit with the statement, before the answer is sent. `sees` gives the
 * access clause on the row (search/access.ts accessClause).
 */
import type { InlineRows } from '../audit/inline.ts';
import { SqlBuilder } from '../search/sql.ts';
import { COLUMNS, toStored, type Queryable, type Row, type StoredVersion } from './resources.ts';

export interface AuditedCurrent extends StoredVersion {
  patients: string[];
  sealed: number;
  /** Whether the statement wrote the audit rows (the caller sees it, as SQL decided). */
  audited: boolean;
}

/** Statement names by text: a few shapes of access clause, each prepared once per connection. */
const names = new Map<string, string>();
const MAX_NAMES = 64;

export async function readCurrentAudited(
  db: Queryable,
  resourceType: string,
  id: string,
  sees: (sql: SqlBuilder, r: string) => string | undefined,
  audit: InlineRows,
): Promise<AuditedCurrent | undefined> {
  const sql = new SqlBuilder();
  const type = sql.bind(resourceType);
  const key = sql.bind(id);
  const c = audit.columns;
  const values = [c.recorded, c.requestId, c.outcome, c.type, c.subtype, c.agent, c.altid, c.breakGlass];
  const [recorded, requestId, outcome, eventType, subtype, agent, altid, breakGlass] = values.map((v) => sql.bind(v));
  const record = `${sql.bind(audit.recordBefore)} || array_to_json(r.patients)::text || ${sql.bind(audit.recordAfter)}`;
  const visible = sees(sql, 'r') ?? 'true';
  const text = `WITH r AS (
      SELECT ${COLUMNS}, patients, sealed FROM resource WHERE resource_type = ${type} AND id = ${key}
    ), a AS (
      INSERT INTO audit_event (recorded, patient_id, request_id, outcome, type, subtype, agent, altid, break_glass, record)
      SELECT ${recorded}::timestamptz, p.id, ${requestId}, ${outcome}, ${eventType}, ${subtype}, ${agent}, ${altid},
        ${breakGlass}::boolean, ${record}
      FROM r LEFT JOIN LATERAL unnest(r.patients) AS p(id) ON true
      WHERE NOT r.deleted AND ${visible}
      RETURNING 1
    )
    SELECT r.*, EXISTS (SELECT 1 FROM a) AS audited FROM r`;
  let name = names.get(text);
  if (!name && names.size < MAX_NAMES) names.set(text, (name = `audited-read-${names.size}`));
  const { rows } = await db.query<Row & { patients: string[]; sealed: number; audited: boolean }>({
    name,
    text,
    values: sql.values,
  });
  const row = rows[0];
  return row && { ...toStored(row), patients: row.patients, sealed: row.sealed, audited: row.audited };
}
