/**
 * What the access decision needs about a caller (its parties and every
 * relationship naming them), loaded once and kept until something that could
 * change access is written: a Patient, EpisodeOfCare, CareTeam, Task,
 * ServiceRequest, CarePlan (shares with restricted roles), Consent,
 * PractitionerRole (its activities) or Organization (its type; its ODS code
 * places an external identity provider's role). Such a write empties this
 * node's cache once it commits (before its answer is sent) and sends NOTIFY
 * hearth_access with its commit, which every other node (each LISTENs on its
 * own connection) answers by emptying its cache, so a revoked relationship
 * stops counting on the next request here and within a notification's delay
 * (milliseconds) elsewhere. Other caches of who a caller is (the external
 * identity provider's roles) are emptied with it (onInvalidate). Decisions
 * themselves are made per request at that request's time (policy.ts), so
 * relationships that lapse with time need no invalidation.
 */
import type pg from 'pg';
import { Listener } from '../store/listener.ts';
import type { Relationship } from './relationships.ts';

export const ACCESS_CHANNEL = 'hearth_access';

/** Types whose writes can change who may see whom. */
export const ACCESS_TYPES: ReadonlySet<string> = new Set([
  'Patient',
  'EpisodeOfCare',
  'CareTeam',
  'Task',
  'ServiceRequest',
  'CarePlan',
  'Consent',
  'PractitionerRole',
  'HealthcareService',
  'Organization',
]);

export interface CallerData {
  /** The parties the caller acts as (policy.ts). */
  parties: ReadonlySet<string>;
  /** Relationships naming the parties or everyone, by patient. */
  byPatient: ReadonlyMap<string, Relationship[]>;
  /** The role carries the sensitive-data activity (auth/sealing.ts). */
  sensitiveData: boolean;
  /** A restricted role (auth/restricted.ts): the shares naming its parties; undefined for any other caller. */
  shares?: Relationship[];
}

const MAX_CALLERS = 10_000;

export class AccessCache {
  private callers = new Map<string, Promise<CallerData>>();
  private listener?: Listener;
  /** Whether other nodes' changes are being heard (no caching while they may be missed). */
  private hearing = true;
  private readonly onInvalidated: (() => void)[] = [];

  /** The caller's data, loading it on a miss. */
  get(key: string, load: () => Promise<CallerData>): Promise<CallerData> {
    if (!this.hearing) return load();
    let entry = this.callers.get(key);
    if (!entry) {
      if (this.callers.size >= MAX_CALLERS) this.callers.clear();
      entry = load();
      this.callers.set(key, entry);
      entry.catch(() => this.callers.delete(key));
    }
    return entry;
  }

  invalidate(): void {
    this.callers = new Map();
    for (const forget of this.onInvalidated) forget();
  }

  /** Calls `forget` whenever this cache is emptied (a change here or on another node). */
  onInvalidate(forget: () => void): void {
    this.onInvalidated.push(forget);
  }

  /**
   * A write that may change access: empty this node's cache and notify every
   * node (this one too) on the write's connection; inside a transaction the
   * notification goes out when it commits, and empties the caches then.
   */
  async changed(db: pg.Pool | pg.PoolClient): Promise<void> {
    this.invalidate();
    await db.query(`SELECT pg_notify('${ACCESS_CHANNEL}', '')`);
  }

  /**
   * Listens for other nodes' changes on a connection of its own (until stop).
   * While that connection is lost, changes could be missed: nothing is cached
   * until it is back (then the cache starts empty).
   */
  async listen(pool: pg.Pool): Promise<void> {
    this.listener = new Listener(pool, [ACCESS_CHANNEL], {
      onNotification: () => this.invalidate(),
      onLost: () => {
        this.hearing = false;
        this.invalidate();
      },
      onRestored: () => {
        this.invalidate();
        this.hearing = true;
      },
    });
    await this.listener.start();
  }

  stop(): void {
    this.listener?.stop();
    this.listener = undefined;
  }
}
