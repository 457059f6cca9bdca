/**
 * What sees every write on its way through the Repository (subscriptions):
 * it may refuse or adjust a resource before it is stored, and records the
 * consequences of the transaction's writes in that same transaction, just
 * before COMMIT, so they exist if and only if the writes do.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Guard } from '../auth/guard.ts';
import type { HistoryEntry, Queryable } from '../store/resources.ts';
import type { Repository } from './repository.ts';

export interface WrittenChange {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  method: HistoryEntry['method'];
  /** The version before (none for a create). */
  previous?: Resource;
  /** The version written (none for a delete). */
  current?: Resource;
  /** What prepare() wanted kept for beforeCommit (e.g. a secret not stored in the resource). */
  note?: unknown;
}

export interface WriteObserver {
  /** Whether writes of this type concern the observer (they then always run in a transaction). */
  watches(resourceType: string): boolean;
  /**
   * A resource about to be stored, by a caller (guard: theirs; none when security is off) or by Hearth itself
   * (server); throws FhirError to refuse it.
   */
  prepare(
    resource: Resource,
    previous: Resource | undefined,
    by: { guard?: Guard; server: boolean },
  ): { resource: Resource; note?: unknown };
  /**
   * In the write's transaction, before anything reads after a write (and before COMMIT), with the changes to
   * watched types since the last call: for what a read in the same transaction must already see.
   */
  beforeRead?(db: Queryable, changes: WrittenChange[]): Promise<void>;
  /** In the write's transaction, before COMMIT, with every change it made to watched types. */
  beforeCommit(db: Queryable, changes: WrittenChange[], guard?: Guard): Promise<void>;
  /** Once they have committed (before the answer is sent). */
  afterCommit(changes: WrittenChange[]): Promise<void>;
}

/**
 * A business rule on writes of some types (workflow), run by the Repository in
 * the write's transaction, in this order for each version written:
 * 1. `adjust` (every write, a caller's or Hearth's own): returns the resource
 *    to store instead, e.g. with a value the server fills in (a response
 *    clock). It sees the version before (none for a create) and may read
 *    current resources as Hearth (`read`, no access check: what it reads is
 *    not disclosed). What it adds is not validated again: keep it valid.
 * 2. `check` (a caller's writes only; Hearth's own are not judged): throws
 *    FhirError to refuse the write (nothing is written).
 * 3. `after` (every write, once it is stored): the consequences it entails,
 *    written through `repo` (Hearth's own writes, in the same transaction:
 *    they commit with it or not at all; they run these rules too, so a
 *    consequence must not re-trigger itself). `by.guard` is the caller's
 *    (none for Hearth's own writes or with security off).
 * Deletions run none of them.
 */
export interface WriteRule {
  types: ReadonlySet<string>;
  /**
   * The rule reads stored resources (e.g. uniqueness): its writes then always run in a transaction, and the
   * transaction's earlier writes are sent before it is checked, so it sees them.
   */
  readsStore?: boolean;
  adjust?(previous: Resource | undefined, next: Resource, read: RuleReader): Promise<Resource>;
  check?(previous: Resource | undefined, next: Resource, guard: Guard | undefined, db: Queryable): Promise<void>;
  after?(change: RuleChange, repo: Repository, by: { guard?: Guard; server: boolean }): Promise<void>;
}

/** Reads the current version of Type/id as Hearth (none when absent or deleted), this transaction's writes included. */
export type RuleReader = (resourceType: string, id: string) => Promise<Resource | undefined>;

export interface RuleChange {
  /** The version before (none for a create). */
  previous?: Resource;
  /** The version just stored (meta.versionId set). */
  current: Resource;
}

/** Several observers as one: each sees the writes of the types it watches, in the order given. */
export function combineObservers(...observers: WriteObserver[]): WriteObserver {
  const concerned = (changes: WrittenChange[], o: WriteObserver) => changes.filter((c) => o.watches(c.resourceType));
  return {
    watches: (resourceType) => observers.some((o) => o.watches(resourceType)),
    prepare(resource, previous, by) {
      let current = resource;
      const notes: unknown[] = [];
      for (const o of observers) {
        if (!o.watches(resource.resourceType)) {
          notes.push(undefined);
          continue;
        }
        const prepared = o.prepare(current, previous, by);
        current = prepared.resource;
        notes.push(prepared.note);
      }
      return { resource: current, note: notes };
    },
    async beforeRead(db, changes) {
      for (const [i, o] of observers.entries()) {
        if (!o.beforeRead) continue;
        const mine = concerned(changes, o).map((c) => ({ ...c, note: (c.note as unknown[] | undefined)?.[i] }));
        if (mine.length) await o.beforeRead(db, mine);
      }
    },
    async beforeCommit(db, changes, guard) {
      for (const [i, o] of observers.entries()) {
        const mine = concerned(changes, o).map((c) => ({ ...c, note: (c.note as unknown[] | undefined)?.[i] }));
        if (mine.length) await o.beforeCommit(db, mine, guard);
      }
    },
    async afterCommit(changes) {
      for (const [i, o] of observers.entries()) {
        const mine = concerned(changes, o).map((c) => ({ ...c, note: (c.note as unknown[] | undefined)?.[i] }));
        if (mine.length) await o.afterCommit(mine);
      }
    },
  };
}
