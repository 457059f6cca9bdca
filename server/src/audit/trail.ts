/**
 * The audit trail's writer. Each request hands over its audit record (who,
 * what, which patients, the outcome: audit-event.ts) and waits until it is
 * durable; then it is answered. So a crash loses no record of an answered
 * request (an unanswered request's may be lost, and so was its answer). If
 * the record cannot be made durable, the request fails (500) rather than
 * going unaudited.
 *
 * Durable first in this node's spool, then in PostgreSQL: the rows (one per
 * patient) are appended as JSON lines to a segment file in the data folder
 * and flushed to disk (fdatasync); records arriving during a flush go
 * together in the next (group commit; no added wait when the trail is idle).
 * A shipper moves what is on disk into the audit_event table every
 * HEARTH_AUDIT_SHIP_MS (200 ms), in large statements, recording in the same transaction
 * how far it has shipped each segment (audit_spool), so a crash at any point
 * neither loses nor repeats a row: shipping resumes from the recorded offset.
 * Segments roll over at SEGMENT_BYTES and are deleted once shipped.
 *
 * Several nodes (or test servers) may share a data folder: segments are
 * named by their node, and kept in a folder per database. Each node holds a
 * PostgreSQL advisory lock for its name while alive; a node that finds
 * segments whose owner's lock is free (it died) takes them over and ships
 * them. A node reading the audit trail ships its own spool first, so it sees
 * its own requests at once; other nodes' within HEARTH_AUDIT_SHIP_MS.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { appendAuditRows, auditRowJson } from '../store/audit.ts';
import { auditRows, type AuditRecord } from './audit-event.ts';

const SEGMENT_BYTES = 16 * 2 ** 20;
/** Bytes read from a segment per shipping statement group. */
const SHIP_READ_BYTES = 4 * 2 ** 20;
const ROWS_PER_STATEMENT = 2000;
/** Every this many shipping rounds, look for segments of nodes that died. */
const ADOPT_EVERY = 25;

interface Waiting {
  /** The record's rows as spool lines (auditRowJson). */
  lines: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Segment {
  /** File name; also its key in audit_spool. */
  name: string;
  file: string;
  /** Bytes on disk known complete (written and flushed, or the size of a finished segment). */
  durable: number;
  /** Bytes shipped (loaded from audit_spool when first shipped). */
  shipped?: number;
}

export class AuditTrail {
  private waiting: Waiting[] = [];
  private flushing = false;
  private current!: Segment & { fd: number };
  private sequence = 0;
  private readonly segments: Segment[] = [];
  private shipping?: Promise<void>;
  private rounds = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly lock: pg.Client,
    private readonly dir: string,
    private readonly owner: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Opens this node's spool under `dataDir` for the pool's database, and starts shipping. */
  static async open(
    pool: pg.Pool,
    databaseUrl: string,
    options: { dataDir: string; shipMs: number },
    onError: (error: unknown) => void,
  ) {
    const { dataDir, shipMs } = options;
    const { rows } = await pool.query<{ id: string }>('SELECT id FROM hearth_instance');
    const dir = path.join(dataDir, 'audit-spool', rows[0].id);
    fs.mkdirSync(dir, { recursive: true });
    const owner = `node-${process.pid}-${randomBytes(6).toString('hex')}`;
    // The owner's advisory lock, held on a connection of its own for the node's life: others see it alive.
    const lock = new pg.Client({ connectionString: databaseUrl });
    lock.on('error', onError);
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [owner]);
    const trail = new AuditTrail(pool, lock, dir, owner, onError);
    trail.roll();
    await trail.adoptOrphans();
    await trail.ship();
    trail.timer = setInterval(() => trail.ship().catch(onError), shipMs);
    trail.timer.unref();
    return trail;
  }

  /** Resolves once the record is on disk. */
  record(record: AuditRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the audit trail is closed'));
    const lines = auditRows(record).map(auditRowJson);
    return new Promise((resolve, reject) => {
      this.waiting.push({ lines, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Ships everything on disk to PostgreSQL (serialised: a call during a round waits for it and runs another). */
  ship(): Promise<void> {
    const run = async () => {
      if (++this.rounds % ADOPT_EVERY === 0) await this.adoptOrphans();
      for (const segment of [...this.segments]) await this.shipSegment(segment);
    };
    const next = (this.shipping ?? Promise.resolve()).then(run, run);
    this.shipping = next.finally(() => {
      if (this.shipping === next) this.shipping = undefined;
    });
    return next;
  }

  /** Waits for records in flight, ships everything, releases the node's lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    while (this.flushing || this.waiting.length) await new Promise((resolve) => setTimeout(resolve, 5));
    try {
      await this.ship();
      // All shipped: the last segment goes too, and the folder if no other node uses it.
      fs.closeSync(this.current.fd);
      if (this.current.shipped === this.current.durable) {
        fs.rmSync(this.current.file, { force: true });
        await this.pool.query('DELETE FROM audit_spool WHERE segment = $1', [this.current.name]);
        if (!fs.readdirSync(this.dir).length) fs.rmSync(this.dir, { recursive: true, force: true });
      }
    } finally {
      await this.lock.end().catch(() => undefined);
    }
  }

  /** Writes the gathered records to the current segment and flushes it to disk; then answers them. */
  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length) {
      const batch = this.waiting;
      this.waiting = [];
      let error: unknown;
      try {
        const text = batch.flatMap((w) => w.lines).join('\n') + '\n';
        const bytes = Buffer.from(text);
        await write(this.current.fd, bytes);
        await datasync(this.current.fd);
        this.current.durable += bytes.length;
        if (this.current.durable >= SEGMENT_BYTES) this.roll();
      } catch (e) {
        error = e;
      }
      for (const w of batch) {
        if (error) w.reject(error);
        else w.resolve();
      }
    }
    this.flushing = false;
  }

  /** Starts a new segment (the previous one, finished, is shipped and then deleted). */
  private roll(): void {
    if (this.current) fs.closeSync(this.current.fd);
    const name = `${this.owner}-${String(++this.sequence).padStart(6, '0')}.jsonl`;
    const file = path.join(this.dir, name);
    const fd = fs.openSync(file, 'a');
    // The new file's directory entry made durable too.
    const dirFd = fs.openSync(this.dir, 'r');
    fs.fsyncSync(dirFd);
    fs.closeSync(dirFd);
    this.current = { name, file, durable: 0, fd };
    this.segments.push(this.current);
  }

  /** Ships a segment's complete lines after its shipped offset; deletes a finished segment once shipped. */
  private async shipSegment(segment: Segment): Promise<void> {
    if (segment.shipped === undefined) {
      const { rows } = await this.pool.query<{ shipped: string }>(
        'SELECT shipped FROM audit_spool WHERE segment = $1',
        [segment.name],
      );
      segment.shipped = rows[0] ? Number(rows[0].shipped) : 0;
    }
    while (segment.shipped! < segment.durable) {
      const from: number = segment.shipped!;
      const length = Math.min(segment.durable - from, SHIP_READ_BYTES);
      const buffer = Buffer.alloc(length);
      const fd = fs.openSync(segment.file, 'r');
      try {
        fs.readSync(fd, buffer, 0, length, from);
      } finally {
        fs.closeSync(fd);
      }
      // Whole lines only: a line cut by the read waits for the next; in a finished segment, a partial last
      // line was cut by a crash mid-write, before it was flushed, so its request was never answered: dropped.
      const end = buffer.lastIndexOf(0x0a) + 1;
      if (end === 0) {
        if (segment !== this.current) segment.durable = segment.shipped!;
        break;
      }
      const rows = buffer.subarray(0, end).toString('utf8').split('\n').filter(Boolean);
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
          await appendAuditRows(client, rows.slice(i, i + ROWS_PER_STATEMENT));
        }
        await client.query(
          `INSERT INTO audit_spool (segment, shipped) VALUES ($1, $2)
           ON CONFLICT (segment) DO UPDATE SET shipped = EXCLUDED.shipped`,
          [segment.name, from + end],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
      segment.shipped = from + end;
    }
    if (segment !== this.current && segment.shipped! >= segment.durable) {
      fs.rmSync(segment.file, { force: true });
      await this.pool.query('DELETE FROM audit_spool WHERE segment = $1', [segment.name]);
      this.segments.splice(this.segments.indexOf(segment), 1);
    }
  }

  /**
   * Segments of nodes that are gone (their advisory lock is free): claimed by
   * renaming them to this node's name (atomic: one claimant wins), then shipped
   * like this node's own, under the name their offset is recorded by.
   */
  private async adoptOrphans(): Promise<void> {
    // A segment file is `<owner>-<n>.jsonl`, or `<name>.adopted-by-<owner>` once another node took it over.
    const owners = new Map<string, { name: string; file: string }[]>();
    for (const file of fs.readdirSync(this.dir)) {
      const match = /^((node-\d+-[0-9a-f]+)-\d+\.jsonl)(?:\.adopted-by-(node-\d+-[0-9a-f]+))?$/.exec(file);
      if (!match) continue;
      const holder = match[3] ?? match[2];
      if (holder === this.owner) continue;
      owners.set(holder, [...(owners.get(holder) ?? []), { name: match[1], file }]);
    }
    for (const [owner, files] of owners) {
      const { rows } = await this.lock.query<{ free: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS free',
        [owner],
      );
      if (!rows[0].free) continue;
      await this.lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [owner]);
      for (const { name, file } of files.sort((a, b) => a.name.localeCompare(b.name))) {
        const claimed = path.join(this.dir, `${name}.adopted-by-${this.owner}`);
        try {
          fs.renameSync(path.join(this.dir, file), claimed);
        } catch {
          continue; // another node claimed it first
        }
        this.segments.unshift({ name, file: claimed, durable: fs.statSync(claimed).size });
      }
    }
  }
}

function write(fd: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    const next = () =>
      fs.write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
        if (error) return reject(error);
        offset += written;
        if (offset < bytes.length) next();
        else resolve();
      });
    next();
  });
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
