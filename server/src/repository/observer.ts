/**
 * What sees every write on its way through the Repository (subscriptions):
 * it may refuse or adjust a resource before it is stored, and records the
 * consequences of the transaction's writes in that same transaction, just
 * before COMMIT, so they exist if and only if the writes do.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Guard } from '../auth/guard.ts';
import type { HistoryEntry, Queryable } from '../store/resources.ts';

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
  /** In the write's transaction, before COMMIT, with every change it made to watched types. */
  beforeCommit(db: Queryable, changes: WrittenChange[], guard?: Guard): Promise<void>;
  /** Once they have committed (before the answer is sent). */
  afterCommit(changes: WrittenChange[]): Promise<void>;
}

/** A business rule on writes of some types (workflow): judged on the version before and after, in the write's transaction. */
export interface WriteRule {
  types: ReadonlySet<string>;
  /**
   * The rule reads stored resources (e.g. uniqueness): its writes then always run in a transaction, and the
   * transaction's earlier writes are sent before it is checked, so it sees them.
   */
  readsStore?: boolean;
  /** Throws FhirError to refuse the write (nothing is written). */
  check(previous: Resource | undefined, next: Resource, guard: Guard | undefined, db: Queryable): Promise<void>;
}
