/**
 * The audit trail's writer. Each request hands over its audit record (who,
 * what, which patients, the outcome: audit-event.ts), stored as one row per
 * patient in audit_event, and waits until it is committed. While a batch is
 * being written, arriving records gather and go together in the next
 * statement (group commit; no added wait when the trail is idle). One writer:
 * fewer, larger statements cost the database less than parallel small ones.
 * So no answer leaves before its audit record is durable: a crash loses no record
 * of an answered request (an unanswered request's may be lost, and so was its
 * answer). If the trail cannot be written, the request fails (500) rather
 * than going unaudited. A row is small (the compact record and the columns
 * audit searches use); its AuditEvent is built when it is read.
 */
import type pg from 'pg';
import { appendAuditRows, auditRowJson } from '../store/audit.ts';
import { auditRows, type AuditRecord } from './audit-event.ts';

const MAX_BATCH = 500;
const MAX_WRITERS = 1;

interface Waiting {
  /** The record's rows as JSON texts (auditRowJson). */
  rows: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class AuditTrail {
  private waiting: Waiting[] = [];
  private queued = 0;
  private inFlight = 0;

  constructor(private readonly pool: pg.Pool) {}

  /** Resolves once the record is committed. */
  record(record: AuditRecord): Promise<void> {
    const rows = auditRows(record).map(auditRowJson);
    return new Promise((resolve, reject) => {
      this.waiting.push({ rows, resolve, reject });
      this.queued += rows.length;
      // Written at once while a writer is free; otherwise gathered until one is (group commit).
      if (this.queued >= MAX_BATCH || this.inFlight < MAX_WRITERS) this.flush();
    });
  }

  private flush(): void {
    if (!this.waiting.length || this.inFlight >= MAX_WRITERS) return;
    const batch = this.waiting;
    this.waiting = [];
    this.queued = 0;
    this.inFlight++;
    appendAuditRows(
      this.pool,
      batch.flatMap((w) => w.rows),
    ).then(
      () => this.done(batch, undefined),
      (error: unknown) => this.done(batch, error),
    );
  }

  private done(batch: Waiting[], error: unknown): void {
    this.inFlight--;
    for (const w of batch) {
      if (error) w.reject(error);
      else w.resolve();
    }
    if (this.waiting.length) this.flush();
  }
}
