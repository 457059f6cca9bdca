/**
 * The audit trail's writer: AuditEvents stored as resources (so
 * `AuditEvent?patient=…` works, under the same access rules), batched by
 * group commit. Each request hands over its events and waits until they are
 * committed; events arriving within a short window (or until a batch is
 * full) go to PostgreSQL together in one statement. So the per-event cost is
 * shared, yet no response leaves before its audit record is durable: a crash
 * loses no event of an answered request (an unanswered request's events may
 * be lost, and so was its answer). If the trail cannot be written, the
 * request fails (500) rather than going unaudited.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type pg from 'pg';
import { extractIndexRows } from '../search/extract.ts';
import { stamp } from '../repository/stamp.ts';
import { writeFirstVersions, type NewVersion } from '../store/resources.ts';

const MAX_BATCH = 500;
const WINDOW_MS = 2;

interface Waiting {
  versions: NewVersion[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class AuditTrail {
  private waiting: Waiting[] = [];
  private queued = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly pool: pg.Pool) {}

  /** Resolves once the events are committed. */
  record(events: AuditEvent[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    const versions = events.map((event) => {
      const id = randomUUID();
      const lastUpdated = new Date().toISOString();
      const stamped = stamp(event, id, 1, lastUpdated);
      return {
        resourceType: 'AuditEvent',
        id,
        versionId: 1,
        lastUpdated,
        method: 'POST' as const,
        content: JSON.stringify(stamped),
        index: extractIndexRows(stamped),
      };
    });
    return new Promise((resolve, reject) => {
      this.waiting.push({ versions, resolve, reject });
      this.queued += versions.length;
      if (this.queued >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), WINDOW_MS);
    });
  }

  /** Writes what is waiting as one statement (after the previous batch, keeping order). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.queued = 0;
    if (!batch.length) return this.writing;
    this.writing = this.writing.then(async () => {
      try {
        await writeFirstVersions(
          this.pool,
          batch.flatMap((w) => w.versions),
        );
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    });
    return this.writing;
  }
}
