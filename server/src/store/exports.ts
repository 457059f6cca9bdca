/**
 * Long-running jobs (migration 014; a `kind` since 016: 'export', 'stratify')
 * and the NDJSON output of Bulk Data export jobs. A worker
 * claims a job with FOR UPDATE SKIP LOCKED and a lease; each page it writes
 * moves the job on in the same transaction, and only while it still holds the
 * lease, so a job picked up after a crash goes on from the last page written.
 */
import type pg from 'pg';
import type { CompiledSql } from '../search/sql.ts';
import type { Queryable } from './resources.ts';

/** What a job does: a Bulk Data export, or a risk stratification run (population/). */
export type JobKind = 'export' | 'stratify';

export interface ExportJob {
  id: string;
  kind: JobKind;
  owner: string;
  caller: unknown;
  request: string;
  params: unknown;
  status: 'queued' | 'running' | 'done' | 'error';
  transactionTime: string;
  pin: number;
  types: string[];
  typeIndex: number;
  afterId: string;
  exported: number;
  error?: string;
  /** What a finished job reports (a stratification's counts and Groups). */
  result?: unknown;
}

interface JobRow {
  id: string;
  kind: JobKind;
  owner: string;
  caller: unknown;
  request: string;
  params: unknown;
  status: ExportJob['status'];
  transaction_time: Date;
  pin: string;
  types: string[];
  type_index: number;
  after_id: string;
  exported: string;
  error: string | null;
  result: unknown;
}

const COLUMNS =
  'id, kind, owner, caller, request, params, status, transaction_time, pin, types, type_index, after_id, exported, error, result';

function toJob(row: JobRow): ExportJob {
  return {
    id: row.id,
    kind: row.kind,
    owner: row.owner,
    caller: row.caller,
    request: row.request,
    params: row.params,
    status: row.status,
    transactionTime: row.transaction_time.toISOString(),
    pin: Number(row.pin),
    types: row.types,
    typeIndex: row.type_index,
    afterId: row.after_id,
    exported: Number(row.exported),
    ...(row.error ? { error: row.error } : {}),
    ...(row.result ? { result: row.result } : {}),
  };
}

/**
 * A new queued job; its pin is now (every version committed so far). Its transaction time is now too, or for an
 * export the start of the oldest transaction still writing, if earlier: a version that such a transaction commits
 * later is past the pin (not in this export) but was stamped before now, so the next export with
 * `_since=transactionTime` must still reach it. (Stamps are the server's clock, `xact_start` the database's: the
 * same machine by default.)
 */
export async function insertJob(
  db: Queryable,
  job: {
    id: string;
    owner: string;
    caller: unknown;
    request: string;
    params: unknown;
    types: string[];
    kind?: JobKind;
  },
): Promise<ExportJob> {
  const { rows } = await db.query<JobRow>({
    text: `INSERT INTO export_job (id, owner, caller, request, params, status, transaction_time, pin, types, kind)
           VALUES ($1, $2, $3, $4, $5, 'queued',
                   CASE WHEN $7 = 'export' THEN LEAST(now(), (SELECT min(a.xact_start) FROM pg_stat_activity a
                     WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL AND a.pid <> pg_backend_pid()))
                   ELSE now() END,
                   (SELECT COALESCE(max(seq), 0) FROM resource_version), $6, $7)
           RETURNING ${COLUMNS}`,
    values: [
      job.id,
      job.owner,
      JSON.stringify(job.caller),
      job.request,
      JSON.stringify(job.params),
      job.types,
      job.kind ?? 'export',
    ],
  });
  return toJob(rows[0]);
}

/** The job of that kind, if `owner` started it. */
export async function readJob(
  db: Queryable,
  id: string,
  owner: string,
  kind: JobKind = 'export',
): Promise<ExportJob | undefined> {
  const { rows } = await db.query<JobRow>({
    name: 'export-read-job',
    text: `SELECT ${COLUMNS} FROM export_job WHERE id = $1 AND owner = $2 AND kind = $3`,
    values: [id, owner, kind],
  });
  return rows[0] && toJob(rows[0]);
}

/** Cancels (removes) the job and its output; false when `owner` has no such job of that kind. */
export async function deleteJob(db: Queryable, id: string, owner: string, kind: JobKind = 'export'): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'export-delete-job',
    text: 'DELETE FROM export_job WHERE id = $1 AND owner = $2 AND kind = $3',
    values: [id, owner, kind],
  });
  return (rowCount ?? 0) > 0;
}

/**
 * Claims the oldest queued or running job of the kind nobody holds (a dead node's lease has run out) for
 * `leaseSeconds`.
 */
export async function claimJob(
  db: Queryable,
  node: string,
  leaseSeconds: number,
  kind: JobKind = 'export',
): Promise<ExportJob | undefined> {
  const { rows } = await db.query<JobRow>({
    name: 'export-claim-job',
    text: `WITH due AS (
             SELECT id FROM export_job
              WHERE status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now()) AND kind = $3
              ORDER BY created LIMIT 1 FOR UPDATE SKIP LOCKED)
           UPDATE export_job j SET status = 'running', lease_owner = $1,
                  lease_until = now() + make_interval(secs => $2)
             FROM due WHERE j.id = due.id
           RETURNING ${COLUMNS.split(', ')
             .map((c) => `j.${c}`)
             .join(', ')}`,
    values: [node, leaseSeconds, kind],
  });
  return rows[0] && toJob(rows[0]);
}

/**
 * Moves a job on (its phase, the last id done, how many more done) and renews the lease, in the caller's
 * transaction with the work it stands for; false when the job was cancelled or the lease lost (roll that back).
 */
export async function advanceJob(
  db: Queryable,
  node: string,
  leaseSeconds: number,
  step: { jobId: string; typeIndex: number; afterId: string; count: number },
): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'export-advance',
    text: `UPDATE export_job SET type_index = $3, after_id = $4, exported = exported + $5,
                  lease_until = now() + make_interval(secs => $6)
            WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    values: [step.jobId, node, step.typeIndex, step.afterId, step.count, leaseSeconds],
  });
  return (rowCount ?? 0) > 0;
}

/** Records what a job reports when it finishes (before finishJob), if this node still holds it. */
export async function saveJobResult(db: Queryable, id: string, node: string, result: unknown): Promise<void> {
  await db.query({
    name: 'export-save-result',
    text: 'UPDATE export_job SET result = $3 WHERE id = $1 AND lease_owner = $2',
    values: [id, node, JSON.stringify(result)],
  });
}

/** NDJSON to add as the next part of one of a job's files (a type's, or its deleted or error file). */
export interface FilePart {
  file: string;
  ndjson: string;
  count: number;
}

/**
 * Writes a step's NDJSON as the next part of each of its files, first removing the parts of `drop` (a type
 * that failed), and moves the job on (to the page's last id, or to the next phase), renewing the lease; false
 * (nothing written) when the job was cancelled or the lease lost.
 */
export async function savePage(
  pool: pg.Pool,
  node: string,
  leaseSeconds: number,
  page: { jobId: string; parts: FilePart[]; drop?: string; count: number; typeIndex: number; afterId: string },
): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (!(await advanceJob(client, node, leaseSeconds, page))) {
      await client.query('ROLLBACK');
      return false;
    }
    if (page.drop !== undefined) {
      await client.query({
        name: 'export-drop-file',
        text: 'DELETE FROM export_output WHERE job_id = $1 AND resource_type = $2',
        values: [page.jobId, page.drop],
      });
    }
    for (const part of page.parts) {
      if (!part.count) continue;
      await client.query({
        name: 'export-write-part',
        text: `INSERT INTO export_output (job_id, resource_type, part, count, content)
               SELECT $1, $2, COALESCE(max(part), 0) + 1, $3, $4 FROM export_output WHERE job_id = $1 AND resource_type = $2`,
        values: [page.jobId, part.file, part.count, part.ndjson],
      });
    }
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Ends a job (done, or error with a message), releasing its lease; only by the lease holder. */
export async function finishJob(db: Queryable, id: string, node: string, error?: string): Promise<void> {
  await db.query({
    name: 'export-finish',
    text: `UPDATE export_job SET status = $3, error = $4, finished = now(), lease_owner = NULL, lease_until = NULL
            WHERE id = $1 AND lease_owner = $2`,
    values: [id, node, error ? 'error' : 'done', error ?? null],
  });
}

/** Gives a claimed job back (this node is stopping): another node takes it on from where it is. */
export async function releaseJob(db: Queryable, id: string, node: string): Promise<void> {
  await db.query({
    name: 'export-release',
    text: 'UPDATE export_job SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2',
    values: [id, node],
  });
}

/** Lines written per file (each type's resources, the deleted and error files), in the job's type order. */
export async function outputCounts(db: Queryable, jobId: string): Promise<{ type: string; count: number }[]> {
  const { rows } = await db.query<{ resource_type: string; count: string }>({
    name: 'export-output-counts',
    text: `SELECT o.resource_type, sum(o.count) AS count FROM export_output o JOIN export_job j ON j.id = o.job_id
            WHERE o.job_id = $1 GROUP BY o.resource_type, j.types
            ORDER BY array_position(j.types, o.resource_type), o.resource_type`,
    values: [jobId],
  });
  return rows.map((r) => ({ type: r.resource_type, count: Number(r.count) }));
}

/** One part of a type's file (1, 2, …); undefined after the last. */
export async function readPart(
  db: Queryable,
  jobId: string,
  resourceType: string,
  part: number,
): Promise<string | undefined> {
  const { rows } = await db.query<{ content: string }>({
    name: 'export-read-part',
    text: 'SELECT content FROM export_output WHERE job_id = $1 AND resource_type = $2 AND part = $3',
    values: [jobId, resourceType, part],
  });
  return rows[0]?.content;
}

/** Removes finished jobs (and their files) older than `hours`. */
export async function pruneJobs(db: Queryable, hours: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'export-prune',
    text: `DELETE FROM export_job WHERE finished < now() - make_interval(hours => $1)`,
    values: [hours],
  });
  return rowCount ?? 0;
}

/** The resource types present (current, undeleted), by a skip scan of the primary key. */
export async function presentTypes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>({
    name: 'export-present-types',
    text: `WITH RECURSIVE t AS (
             (SELECT resource_type AS t FROM resource ORDER BY resource_type LIMIT 1)
             UNION ALL
             SELECT (SELECT resource_type FROM resource WHERE resource_type > t.t ORDER BY resource_type LIMIT 1)
               FROM t WHERE t.t IS NOT NULL)
           SELECT t FROM t WHERE t IS NOT NULL`,
  });
  return rows.map((r) => r.t);
}

/** One page of an export (search/export-page.ts). */
export async function runExportPage(db: Queryable, sql: CompiledSql): Promise<{ id: string; content: string }[]> {
  const { rows } = await db.query<{ id: string; content: string }>(sql.text, sql.values);
  return rows;
}
