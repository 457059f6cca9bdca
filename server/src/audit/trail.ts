/**
 * The audit trail's writer. Each request hands over its audit record (who,
 * what, which patients, the outcome: audit-event.ts), stored as one row per
 * patient in audit_event, and waits until it is committed. While a batch is
 * being written, arriving records gather and go together in the next
 * statement (group commit; no added wait when the trail is idle). One writer
 * as a rule: fewer, larger statements cost the database less than parallel
 * small ones. A second writer starts only when the batch in flight has taken
 * SLOW_FACTOR times longer than commits have lately (a stalled flush to
 * disk): the records gathered behind it then go at once instead of waiting
 * for it and their own commit after it. So no answer leaves before its audit
 * record is durable: a crash loses no record of an answered request (an
 * unanswered request's may be lost, and so was its answer). If the trail
 * cannot be written, the request fails (500) rather than going unaudited. A
 * row is small (the compact record and the columns audit searches use); its
 * AuditEvent is built when it is read.
 */
import type pg from 'pg';
import { appendAuditRows, auditRowJson } from '../store/audit.ts';
import { auditRows, type AuditRecord } from './audit-event.ts';

const MAX_BATCH = 500;
const MAX_WRITERS = 2;
/** A second writer starts once the one in flight has taken this many times the usual commit time. */
const SLOW_FACTOR = 2;
/** The usual commit time before any is measured (ms), and how fast the measure follows new commits. */
const FIRST_USUAL_MS = 2;
const SMOOTHING = 0.2;

interface Waiting {
  /** The record's rows as JSON texts (auditRowJson). */
  rows: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Writes a batch of rows (JSON texts) in one committed statement. */
export type AppendRows = (rows: string[]) => Promise<void>;

export class AuditTrail {
  private waiting: Waiting[] = [];
  private queued = 0;
  /** When each batch in flight started (performance.now()). */
  private readonly started: number[] = [];
  /** A moving average of how long a commit takes (ms). */
  private usualMs = FIRST_USUAL_MS;
  /** Wakes a second writer when the one in flight runs late. */
  private timer?: NodeJS.Timeout;
  private readonly append: AppendRows;

  constructor(pool: pg.Pool, append?: AppendRows) {
    this.append = append ?? ((rows) => appendAuditRows(pool, rows));
  }

  /** Resolves once the record is committed. */
  record(record: AuditRecord): Promise<void> {
    const rows = auditRows(record).map(auditRowJson);
    return new Promise((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject });
      this.queued += rows.length;
      // Written at once while no writer is busy; otherwise gathered until one is free (group commit).
      if (this.queued >= MAX_BATCH || !this.started.length) this.flush();
      else this.watch();
    });
  }

  /** How many batches are being written now (at most MAX_WRITERS). */
  get writers(): number {
    return this.started.length;
  }

  /** With one writer busy and records waiting: a second starts when the first has run late. */
  private watch(): void {
    if (this.timer || this.started.length !== 1 || !this.waiting.length) return;
    const due = this.started[0] + this.usualMs * SLOW_FACTOR - performance.now();
    if (due <= 0) return this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, due);
  }

  private flush(): void {
    if (!this.waiting.length || this.started.length >= MAX_WRITERS) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.queued = 0;
    const start = performance.now();
    this.started.push(start);
    this.append(batch.flatMap((w) => w.rows)).then(
      () => this.done(batch, start, undefined),
      (error: unknown) => this.done(batch, start, error),
    );
  }

  private done(batch: Waiting[], start: number, error: unknown): void {
    this.started.splice(this.started.indexOf(start), 1);
    if (!error) this.usualMs += (performance.now() - start - this.usualMs) * SMOOTHING;
    for (const w of batch) {
      if (error) w.reject(error);
      else w.resolve();
    }
    if (!this.started.length) this.flush();
    else this.watch();
  }
}
