/**
 * The SQL of the audit trail (audit/trail.ts appends, interactions/audit.ts
 * reads). Searches run in id order, the order events were written (newest
 * first by default), which is time order to within a group commit.
 */
import type { Visibility } from '../auth/policy.ts';
import { SqlBuilder } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

export interface AuditRow {
  id: string;
  recorded: string;
  patientId: string | null;
  requestId: string | null;
  outcome: string;
  type: string;
  subtype: string;
  agent: string | null;
  altid: string | null;
  breakGlass: boolean;
  record: string;
}

const COLUMNS: [column: string, field: keyof AuditRow, type: string][] = [
  ['id', 'id', 'bigint'],
  ['recorded', 'recorded', 'timestamptz'],
  ['patient_id', 'patientId', 'text'],
  ['request_id', 'requestId', 'text'],
  ['outcome', 'outcome', 'text'],
  ['type', 'type', 'text'],
  ['subtype', 'subtype', 'text'],
  ['agent', 'agent', 'text'],
  ['altid', 'altid', 'text'],
  ['break_glass', 'breakGlass', 'boolean'],
  ['record', 'record', 'text'],
];

/**
 * The columns written (the id is the table's sequence). A batch goes as one
 * JSON parameter, an array of rows keyed by field name, each row's `record`
 * embedded as the JSON it is (not escaped into a string): serialised once,
 * parsed by PostgreSQL; cheaper than array parameters, whose every element
 * the driver escapes in JavaScript.
 */
const WRITTEN = COLUMNS.slice(1);
const APPEND = `INSERT INTO audit_event (${WRITTEN.map(([c]) => c).join(', ')})
  SELECT ${WRITTEN.map(([, field]) => (field === 'record' ? '"record"::text' : `"${field}"`)).join(', ')}
  FROM json_to_recordset($1::json)
    AS x(${WRITTEN.map(([, field, type]) => `"${field}" ${field === 'record' ? 'json' : type}`).join(', ')})`;

/** A row as one JSON text: its record embedded as the JSON it already is. */
export function auditRowJson(row: Omit<AuditRow, 'id'>): string {
  const { record, ...columns } = row;
  return `${JSON.stringify(columns).slice(0, -1)},"record":${record}}`;
}

/** Appends rows given as JSON texts (auditRowJson), in one statement. */
export async function appendAuditRows(db: Queryable, rows: string[]): Promise<void> {
  await db.query({ name: 'audit-append', text: APPEND, values: [`[${rows.join(',')}]`] });
}

/** Conditions of an audit search; each list is OR-ed, the lists AND-ed. */
export interface AuditQuery {
  patients?: string[];
  /** [operator, instant] pairs on recorded (>=, >, <=, <). */
  recorded: [op: '>=' | '>' | '<=' | '<', instant: string][];
  outcomes?: string[];
  types?: string[];
  subtypes?: string[];
  agents?: string[];
  altids?: string[];
  requestIds?: string[];
  breakGlass?: boolean;
  visibility?: Visibility;
  ascending: boolean;
  /** Continue after this row (in id order, the order rows were written). */
  after?: string;
  limit: number;
}

function where(sql: SqlBuilder, q: AuditQuery): string {
  const clauses: string[] = ['true'];
  const anyOf = (column: string, values: string[] | undefined) => {
    if (values) clauses.push(`${column} = ANY(${sql.bind(values)}::text[])`);
  };
  anyOf('patient_id', q.patients);
  anyOf('outcome', q.outcomes);
  anyOf('type', q.types);
  anyOf('subtype', q.subtypes);
  anyOf('agent', q.agents);
  anyOf('altid', q.altids);
  anyOf('request_id', q.requestIds);
  for (const [op, instant] of q.recorded) clauses.push(`recorded ${op} ${sql.bind(instant)}::timestamptz`);
  if (q.breakGlass !== undefined) clauses.push(`break_glass = ${sql.bind(q.breakGlass)}`);
  const v = q.visibility;
  if (v && !(v.every && !v.except.length)) {
    const patients = sql.bind(v.every ? v.except : v.only);
    clauses.push(
      v.every
        ? `(patient_id IS NULL OR NOT patient_id = ANY(${patients}::text[]))`
        : `(patient_id IS NULL OR patient_id = ANY(${patients}::text[]))`,
    );
  }
  return clauses.join(' AND ');
}

export async function searchAuditRows(db: Queryable, q: AuditQuery): Promise<AuditRow[]> {
  const sql = new SqlBuilder();
  const conditions = where(sql, q);
  const direction = q.ascending ? 'ASC' : 'DESC';
  const seek = q.after ? ` AND id ${q.ascending ? '>' : '<'} ${sql.bind(q.after)}::bigint` : '';
  const { rows } = await db.query(
    `SELECT ${COLUMNS.map(([c]) => c).join(', ')} FROM audit_event WHERE ${conditions}${seek}
      ORDER BY id ${direction} LIMIT ${sql.bind(q.limit)}`,
    sql.values,
  );
  return rows.map(toRow);
}

export async function countAuditRows(db: Queryable, q: AuditQuery): Promise<number> {
  const sql = new SqlBuilder();
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_event WHERE ${where(sql, q)}`,
    sql.values,
  );
  return rows[0].n;
}

export async function readAuditRow(db: Queryable, id: string): Promise<AuditRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  const { rows } = await db.query(`SELECT ${COLUMNS.map(([c]) => c).join(', ')} FROM audit_event WHERE id = $1`, [id]);
  return rows[0] && toRow(rows[0]);
}

function toRow(row: Record<string, unknown>): AuditRow {
  return {
    id: String(row.id),
    recorded: (row.recorded as Date).toISOString(),
    patientId: row.patient_id as string | null,
    requestId: row.request_id as string | null,
    outcome: row.outcome as string,
    type: row.type as string,
    subtype: row.subtype as string,
    agent: row.agent as string | null,
    altid: row.altid as string | null,
    breakGlass: row.break_glass as boolean,
    record: row.record as string,
  };
}
