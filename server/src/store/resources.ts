/**
 * All SQL on resources and their versions. A write is one statement: the new
 * version, the current row and the replacement index rows together.
 */
import type pg from 'pg';
import { PATIENT_CODE, type IndexRows } from '../search/extract.ts';

export type Queryable = pg.Pool | pg.PoolClient;

export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  /** The resource JSON as stored (meta included); null for a deletion. */
  content: string | null;
  seq: number;
}

export interface HistoryEntry extends StoredVersion {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
}

export interface NewVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  method: HistoryEntry['method'];
  content: string | null;
  index: IndexRows;
  /** The confidentiality level access control reads (auth/sealing.ts): 0 none, 1 R, 2 V. */
  sealed: number;
}

interface Row {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date;
  deleted: boolean;
  content: string | null;
  seq: number;
  method?: HistoryEntry['method'];
}

const COLUMNS = 'resource_type, id, version_id, last_updated, deleted, content, seq';

function toStored(row: Row): StoredVersion {
  return {
    resourceType: row.resource_type,
    id: row.id,
    versionId: row.version_id,
    lastUpdated: row.last_updated.toISOString(),
    deleted: row.deleted,
    content: row.content,
    seq: row.seq,
  };
}

export async function readCurrent(db: Queryable, resourceType: string, id: string): Promise<StoredVersion | undefined> {
  const { rows } = await db.query<Row>({
    name: 'read-current',
    text: `SELECT ${COLUMNS} FROM resource WHERE resource_type = $1 AND id = $2`,
    values: [resourceType, id],
  });
  return rows[0] && toStored(rows[0]);
}

/** The current version, the patients it is about (the compartments it is in) and its confidentiality level. */
export async function readCurrentWithPatients(
  db: Queryable,
  resourceType: string,
  id: string,
): Promise<(StoredVersion & { patients: string[]; sealed: number }) | undefined> {
  const { rows } = await db.query<Row & { patients: string[]; sealed: number }>({
    name: 'read-current-with-access',
    text: `SELECT ${COLUMNS}, patients, sealed FROM resource WHERE resource_type = $1 AND id = $2`,
    values: [resourceType, id],
  });
  return rows[0] && { ...toStored(rows[0]), patients: rows[0].patients, sealed: rows[0].sealed };
}

/** The confidentiality levels of the current rows of some resources, keyed Type/id (none for unknown ones). */
export async function readSealLevels(
  db: Queryable,
  refs: { resourceType: string; id: string }[],
): Promise<Map<string, number>> {
  if (!refs.length) return new Map();
  const { rows } = await db.query<{ resource_type: string; id: string; sealed: number }>({
    name: 'read-seal-levels',
    text: `SELECT r.resource_type, r.id, r.sealed FROM unnest($1::text[], $2::text[]) AS k(t, i)
             JOIN resource r ON r.resource_type = k.t AND r.id = k.i`,
    values: [refs.map((r) => r.resourceType), refs.map((r) => r.id)],
  });
  return new Map(rows.map((r) => [`${r.resource_type}/${r.id}`, r.sealed]));
}

/** The current version, row-locked until the transaction ends (serialises writers of one resource). */
export async function lockCurrent(
  db: pg.PoolClient,
  resourceType: string,
  id: string,
): Promise<StoredVersion | undefined> {
  const { rows } = await db.query<Row>({
    name: 'lock-current',
    text: `SELECT ${COLUMNS} FROM resource WHERE resource_type = $1 AND id = $2 FOR UPDATE`,
    values: [resourceType, id],
  });
  return rows[0] && toStored(rows[0]);
}

/** The current versions of some resources (keyed Type/id; none for unknown ones), row-locked in key order. */
export async function lockCurrentMany(
  db: pg.PoolClient,
  refs: { resourceType: string; id: string }[],
): Promise<Map<string, StoredVersion>> {
  if (!refs.length) return new Map();
  const { rows } = await db.query<Row>({
    name: 'lock-current-many',
    text: `SELECT ${COLUMNS.replace(/(\w+)/g, 'r.$1')} FROM resource r
             JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i
            ORDER BY r.resource_type, r.id FOR UPDATE OF r`,
    values: [refs.map((r) => r.resourceType), refs.map((r) => r.id)],
  });
  return new Map(rows.map((row) => [`${row.resource_type}/${row.id}`, toStored(row)]));
}

export async function readVersion(
  db: Queryable,
  resourceType: string,
  id: string,
  versionId: number,
): Promise<StoredVersion | undefined> {
  const { rows } = await db.query<Row>({
    name: 'read-version',
    text: `SELECT resource_type, id, version_id, last_updated, content IS NULL AS deleted, content, seq
             FROM resource_version WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
    values: [resourceType, id, versionId],
  });
  return rows[0] && toStored(rows[0]);
}

/** The contents of several versions at once (null for a deletion), keyed `Type/id/version`. */
export async function readVersionContents(
  db: Queryable,
  keys: { resourceType: string; id: string; versionId: number }[],
): Promise<Map<string, string | null>> {
  if (!keys.length) return new Map();
  const { rows } = await db.query<{ resource_type: string; id: string; version_id: number; content: string | null }>({
    name: 'read-version-contents',
    text: `SELECT v.resource_type, v.id, v.version_id, v.content
             FROM unnest($1::text[], $2::text[], $3::int[]) AS k(t, i, n)
             JOIN resource_version v ON v.resource_type = k.t AND v.id = k.i AND v.version_id = k.n`,
    values: [keys.map((k) => k.resourceType), keys.map((k) => k.id), keys.map((k) => k.versionId)],
  });
  return new Map(rows.map((r) => [`${r.resource_type}/${r.id}/${r.version_id}`, r.content]));
}

/** Each index table: its IndexRows key, and its columns after (resource_type, id) with field and array type. */
const INDEX_SPEC: {
  [K in keyof IndexRows]: [table: string, columns: [column: string, field: keyof IndexRows[K], type: string][]];
} = {
  token: [
    'sp_token',
    [
      ['code', 'code', 'text'],
      ['system', 'system', 'text'],
      ['value', 'value', 'text'],
      ['text', 'text', 'text'],
    ],
  ],
  string: [
    'sp_string',
    [
      ['code', 'code', 'text'],
      ['value', 'value', 'text'],
      ['norm', 'norm', 'text'],
    ],
  ],
  reference: [
    'sp_reference',
    [
      ['code', 'code', 'text'],
      ['target', 'target', 'text'],
      ['target_type', 'targetType', 'text'],
      ['target_id', 'targetId', 'text'],
    ],
  ],
  date: [
    'sp_date',
    [
      ['code', 'code', 'text'],
      ['lo', 'lo', 'timestamptz'],
      ['hi', 'hi', 'timestamptz'],
    ],
  ],
  number: [
    'sp_number',
    [
      ['code', 'code', 'text'],
      ['lo', 'lo', 'numeric'],
      ['hi', 'hi', 'numeric'],
    ],
  ],
  quantity: [
    'sp_quantity',
    [
      ['code', 'code', 'text'],
      ['value', 'value', 'numeric'],
      ['system', 'system', 'text'],
      ['unit', 'unit', 'text'],
    ],
  ],
  uri: [
    'sp_uri',
    [
      ['code', 'code', 'text'],
      ['value', 'value', 'text'],
    ],
  ],
  relationship: [
    'access_relationship',
    [
      ['code', 'code', 'text'],
      ['patient_id', 'patientId', 'text'],
      ['party', 'party', 'text'],
      ['effect', 'effect', 'text'],
      ['starts', 'starts', 'timestamptz'],
      ['ends', 'ends', 'timestamptz'],
      ['target', 'target', 'text'],
    ],
  ],
  deadline: [
    'task_deadline',
    [
      ['code', 'code', 'text'],
      ['due', 'due', 'timestamptz'],
    ],
  ],
};
const INDEX_KINDS = Object.keys(INDEX_SPEC) as (keyof IndexRows)[];

/** Index columns of a kind, untyped (for building statements and value lists). */
function indexColumns(kind: keyof IndexRows): [column: string, field: string, type: string][] {
  return INDEX_SPEC[kind][1] as [string, string, string][];
}

/** The patients of a version (its `_patient` index rows), for the resource row. */
export function versionPatients(index: IndexRows): string[] {
  const { code, targetId } = index.reference;
  return [...new Set(code.flatMap((c, i) => (c === PATIENT_CODE && targetId[i] ? [targetId[i]!] : [])))];
}

/** Inserts of one version's index rows: parameters from $7 on, owner in $1 and $2. */
const INDEX_INSERTS = (() => {
  let n = 6;
  return INDEX_KINDS.map((kind, i) => {
    const columns = indexColumns(kind);
    const params = columns.map(([, , type]) => `$${++n}::${type}[]`).join(', ');
    const names = ['resource_type', 'id', ...columns.map(([column]) => column)].join(', ');
    return `\n, i${i + 1} AS (INSERT INTO ${INDEX_SPEC[kind][0]} (${names}) SELECT $1, $2, * FROM unnest(${params}))`;
  }).join('');
})();

const INDEX_TABLES = INDEX_KINDS.map((kind) => INDEX_SPEC[kind][0]);

/** The parameter holding the version's patients: after the index rows'. */
const PATIENTS_PARAM = 7 + INDEX_KINDS.reduce((n, kind) => n + indexColumns(kind).length, 0);
/** Then its confidentiality level. */
const SEALED_PARAM = PATIENTS_PARAM + 1;

/**
 * The write statement. A first version inserts plainly; a later one replaces the
 * current row and deletes the old index rows in the same statement (data-modifying
 * CTEs see one snapshot, so the deletes never touch the rows inserted beside them).
 */
function writeSql(first: boolean): string {
  const current = first
    ? `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, seq, content, patients, sealed)
  SELECT $1, $2, $3, $4, $6::text IS NULL, v.seq, $6, $${PATIENTS_PARAM}::text[], $${SEALED_PARAM}::smallint FROM v
  RETURNING seq`
    : `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, seq, content, patients, sealed)
  SELECT $1, $2, $3, $4, $6::text IS NULL, v.seq, $6, $${PATIENTS_PARAM}::text[], $${SEALED_PARAM}::smallint FROM v
  ON CONFLICT (resource_type, id) DO UPDATE SET version_id = EXCLUDED.version_id,
    last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, seq = EXCLUDED.seq, content = EXCLUDED.content,
    patients = EXCLUDED.patients, sealed = EXCLUDED.sealed
  RETURNING seq`;
  const deletes = first
    ? ''
    : INDEX_TABLES.map((t, i) => `\n, d${i + 1} AS (DELETE FROM ${t} WHERE resource_type = $1 AND id = $2)`).join('');
  return `WITH v AS (
  INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, content)
  VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq
), cur AS (${current})${deletes}${INDEX_INSERTS}
SELECT seq FROM cur`;
}

const WRITE_FIRST = writeSql(true);
const WRITE_NEXT = writeSql(false);

/**
 * Writes a version (or deletion), makes it current and replaces its index rows,
 * in one statement (atomic on its own). Returns its seq. A first version that
 * races another for the same id fails on the unique key (23505).
 */
export async function writeVersion(db: Queryable, v: NewVersion): Promise<number> {
  const first = v.versionId === 1;
  const index = INDEX_KINDS.flatMap((kind) => {
    const rows = v.index[kind] as unknown as Record<string, unknown[]>;
    return indexColumns(kind).map(([, field]) => rows[field]);
  });
  const { rows } = await db.query<{ seq: number }>({
    name: first ? 'write-first-version' : 'write-next-version',
    text: first ? WRITE_FIRST : WRITE_NEXT,
    values: [
      v.resourceType,
      v.id,
      v.versionId,
      v.lastUpdated,
      v.method,
      v.content,
      ...index,
      versionPatients(v.index),
      v.sealed,
    ],
  });
  return rows[0].seq;
}

/**
 * Many versions in one statement: each column is one array, index rows carry their owner. `later`: some are
 * later versions, whose current row is replaced and whose old index rows are deleted (data-modifying CTEs see
 * one snapshot, so the deletes never touch the rows inserted beside them); without it, first versions only.
 */
function writeManySql(later: boolean): string {
  let n = 6;
  const inserts = INDEX_KINDS.map((kind, i) => {
    const [table, columns] = [INDEX_SPEC[kind][0], indexColumns(kind)];
    const params = ['text', 'text', ...columns.map(([, , type]) => type)].map((type) => `$${++n}::${type}[]`);
    const names = ['resource_type', 'id', ...columns.map(([name]) => name)].join(', ');
    return `, i${i + 1} AS (INSERT INTO ${table} (${names}) SELECT * FROM unnest(${params.join(', ')}))`;
  });
  const deletes = later
    ? INDEX_TABLES.map(
        (t, i) => `, d${i + 1} AS (DELETE FROM ${t} x USING unnest($1::text[], $2::text[], $3::int[]) AS o(t, i, n)
    WHERE o.n > 1 AND x.resource_type = o.t AND x.id = o.i)`,
      )
    : [];
  const upsert = later
    ? `
  ON CONFLICT (resource_type, id) DO UPDATE SET version_id = EXCLUDED.version_id,
    last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, seq = EXCLUDED.seq, content = EXCLUDED.content,
    patients = EXCLUDED.patients, sealed = EXCLUDED.sealed`
    : '';
  // Each version's patients as a JSON array (arrays of arrays cannot be ragged), joined back by key.
  return `WITH v AS (
  INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, content)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[], $6::text[])
  RETURNING seq, resource_type, id, version_id, last_updated, content
), p AS (
  SELECT * FROM unnest($1::text[], $2::text[], $${n + 1}::text[], $${n + 2}::smallint[]) AS p(resource_type, id, patients, sealed)
), cur AS (
  INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, seq, content, patients, sealed)
  SELECT v.resource_type, v.id, v.version_id, v.last_updated, v.content IS NULL, v.seq, v.content,
         ARRAY(SELECT jsonb_array_elements_text(p.patients::jsonb)), p.sealed
    FROM v JOIN p ON p.resource_type = v.resource_type AND p.id = v.id${upsert}
)
${[...deletes, ...inserts].join('\n')}
SELECT count(*)::int AS n FROM v`;
}

const WRITE_FIRST_MANY = writeManySql(false);
const WRITE_ANY_MANY = writeManySql(true);

/**
 * Writes first versions of many resources (a transaction's creates) in one
 * statement: same rows as writeVersion gives each, one round trip for all.
 */
export async function writeFirstVersions(db: Queryable, versions: NewVersion[]): Promise<void> {
  if (versions.some((v) => v.versionId !== 1)) throw new Error('writeFirstVersions takes first versions only');
  await writeMany(db, versions, false);
}

/**
 * Writes versions of many distinct resources, first or later (the current rows of the later ones locked by the
 * caller), in one statement: same rows as writeVersion gives each. A first version that races another for the
 * same id fails on the unique key (23505).
 */
export async function writeVersions(db: Queryable, versions: NewVersion[]): Promise<void> {
  const keys = new Set(versions.map((v) => `${v.resourceType}/${v.id}`));
  if (keys.size !== versions.length) throw new Error('writeVersions takes one version of each resource');
  await writeMany(
    db,
    versions,
    versions.some((v) => v.versionId !== 1),
  );
}

async function writeMany(db: Queryable, versions: NewVersion[], later: boolean): Promise<void> {
  const head: unknown[][] = [[], [], [], [], [], []];
  const patients: string[] = [];
  const sealed: number[] = [];
  const index = INDEX_KINDS.map((kind) => INDEX_SPEC[kind][1].map(() => [] as unknown[]));
  const owners = INDEX_KINDS.map(() => ({ types: [] as string[], ids: [] as string[] }));
  for (const v of versions) {
    [v.resourceType, v.id, v.versionId, v.lastUpdated, v.method, v.content].forEach((value, i) => head[i].push(value));
    patients.push(JSON.stringify(versionPatients(v.index)));
    sealed.push(v.sealed);
    INDEX_KINDS.forEach((kind, k) => {
      const rows = v.index[kind] as unknown as Record<string, unknown[]>;
      const columns = indexColumns(kind);
      const count = rows.code.length;
      for (let r = 0; r < count; r++) {
        owners[k].types.push(v.resourceType);
        owners[k].ids.push(v.id);
      }
      columns.forEach(([, field], c) => index[k][c].push(...rows[field]));
    });
  }
  const indexValues = INDEX_KINDS.flatMap((_, k) => [owners[k].types, owners[k].ids, ...index[k]]);
  await db.query({
    name: later ? 'write-any-versions' : 'write-first-versions',
    text: later ? WRITE_ANY_MANY : WRITE_FIRST_MANY,
    values: [...head, ...indexValues, patients, sealed],
  });
}

/** The current, undeleted resources of some types (all when none given) after a key, in key order. */
export async function readCurrentBatch(
  db: Queryable,
  types: string[],
  after: { resourceType: string; id: string } | undefined,
  limit: number,
): Promise<{ resourceType: string; id: string; content: string }[]> {
  const { rows } = await db.query<{ resource_type: string; id: string; content: string }>(
    `SELECT resource_type, id, content FROM resource
      WHERE NOT deleted AND (cardinality($1::text[]) = 0 OR resource_type = ANY($1::text[]))
        AND (resource_type, id) > ($2, $3)
      ORDER BY resource_type, id LIMIT $4`,
    [types, after?.resourceType ?? '', after?.id ?? '', limit],
  );
  return rows.map((r) => ({ resourceType: r.resource_type, id: r.id, content: r.content }));
}

/**
 * Replaces the index rows of current resources (reindex), in one statement per table, and their patients and
 * confidentiality level (`sealed` null: kept as it is).
 */
export async function replaceIndexRows(
  db: Queryable,
  items: { resourceType: string; id: string; index: IndexRows; sealed: number | null }[],
): Promise<void> {
  const types = items.map((i) => i.resourceType);
  const ids = items.map((i) => i.id);
  await db.query(
    `UPDATE resource r SET patients = ARRAY(SELECT jsonb_array_elements_text(o.patients::jsonb)),
            sealed = coalesce(o.sealed, r.sealed)
       FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[]) AS o(resource_type, id, patients, sealed)
      WHERE r.resource_type = o.resource_type AND r.id = o.id`,
    [types, ids, items.map((i) => JSON.stringify(versionPatients(i.index))), items.map((i) => i.sealed)],
  );
  for (const kind of INDEX_KINDS) {
    const [table] = INDEX_SPEC[kind];
    const columns = indexColumns(kind);
    await db.query(
      `DELETE FROM ${table} t USING unnest($1::text[], $2::text[]) AS o(resource_type, id)
      WHERE t.resource_type = o.resource_type AND t.id = o.id`,
      [types, ids],
    );
    const values: unknown[][] = [[], [], ...columns.map(() => [])];
    for (const item of items) {
      const rows = item.index[kind] as unknown as Record<string, unknown[]>;
      for (let r = 0; r < rows.code.length; r++) {
        values[0].push(item.resourceType);
        values[1].push(item.id);
        columns.forEach(([, field], c) => values[c + 2].push(rows[field][r]));
      }
    }
    if (!values[0].length) continue;
    const params = ['text', 'text', ...columns.map(([, , type]) => type)].map((type, i) => `$${i + 1}::${type}[]`);
    const names = ['resource_type', 'id', ...columns.map(([column]) => column)].join(', ');
    await db.query(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${params.join(', ')})`, values);
  }
}

export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  /** Only versions written after this instant. */
  since?: string;
  /** Only versions current at this instant (R4 `_at`). */
  at?: string;
  /** Paging: versions with seq below this (newest first). */
  beforeSeq?: number;
  /** Pin: versions with seq at or below this (the newest seq when paging began). */
  maxSeq?: number;
  limit: number;
}

export async function readHistory(db: Queryable, q: HistoryQuery): Promise<HistoryEntry[]> {
  const { where, values } = historyWhere(q);
  values.push(q.limit);
  const { rows } = await db.query<Row>(
    `SELECT resource_type, id, version_id, last_updated, content IS NULL AS deleted, content, seq, method
       FROM resource_version v ${where} ORDER BY seq DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map((r) => ({ ...toStored(r), method: r.method! }));
}

export async function countHistory(db: Queryable, q: Omit<HistoryQuery, 'limit' | 'beforeSeq'>): Promise<number> {
  const { where, values } = historyWhere(q);
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM resource_version v ${where}`, values);
  return rows[0].n;
}

function historyWhere(q: Omit<HistoryQuery, 'limit'>): { where: string; values: unknown[] } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const add = (column: string, op: string, value: unknown) => {
    values.push(value);
    clauses.push(`${column} ${op} $${values.length}`);
  };
  if (q.resourceType) add('resource_type', '=', q.resourceType);
  if (q.id) add('id', '=', q.id);
  if (q.since) add('last_updated', '>', q.since);
  if (q.at) {
    // R4 _at: versions that were current at the instant (written by then, not yet superseded).
    add('last_updated', '<=', q.at);
    clauses.push(
      `NOT EXISTS (SELECT 1 FROM resource_version n WHERE n.resource_type = v.resource_type AND n.id = v.id
         AND n.version_id = v.version_id + 1 AND n.last_updated <= $${values.length})`,
    );
  }
  if (q.beforeSeq !== undefined) add('seq', '<', q.beforeSeq);
  if (q.maxSeq !== undefined) add('seq', '<=', q.maxSeq);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', values };
}

/**
 * Current, undeleted resources whose indexed references point at Type/id (for
 * delete integrity). A versioned reference (`Type/id/_history/n`, as every
 * Provenance.target is) names a version that stays in the history, so it does
 * not hold the resource; nor do the derived `_patient` rows.
 */
export async function findReferrers(db: Queryable, resourceType: string, id: string, limit = 10): Promise<string[]> {
  const { rows } = await db.query<{ ref: string }>({
    name: 'find-referrers',
    text: `SELECT DISTINCT r.resource_type || '/' || r.id AS ref
             FROM sp_reference x JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id
            WHERE x.target_type = $1 AND x.target_id = $2 AND NOT r.deleted
              AND NOT (x.resource_type = $1 AND x.id = $2)
              AND x.code <> '${PATIENT_CODE}' AND x.target NOT LIKE '%/\\_history/%'
            LIMIT $3`,
    values: [resourceType, id, limit],
  });
  return rows.map((r) => r.ref);
}

export async function latestSeq(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM resource_version');
  return rows[0].seq ?? 0;
}
