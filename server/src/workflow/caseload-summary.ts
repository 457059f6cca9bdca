/**
 * Keeps the caseload summary (`caseload_entry`, workflow/caseload-sql.ts)
 * current: a WriteObserver that, in the transaction of every write (create,
 * update, delete) of a type the summary is worked out from, refreshes the rows
 * of the patients the old and new versions are about, just before COMMIT, so
 * the summary changes exactly when what it summarises does. When a listener
 * listens (the caseload-changed topic), it is told, in the same transaction,
 * which team rows the transaction changed (caseload-changes.ts).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { WriteObserver, WrittenChange } from '../repository/observer.ts';
import { compartmentPatients } from '../search/extract.ts';
import { refreshCaseload } from '../store/caseload.ts';
import type { Queryable } from '../store/resources.ts';
import { caseloadChanges, type CaseloadRowChange } from './caseload-changes.ts';
import { compileCaseloadRows } from './caseload-sql.ts';

/** The types a caseload row reads (caseload-sql.ts). */
export const CASELOAD_TYPES: ReadonlySet<string> = new Set([
  'EpisodeOfCare',
  'Patient',
  'Task',
  'Communication',
  'Encounter',
  'CarePlan',
  'RiskAssessment',
]);

/** Who hears of changed caseload rows (subscriptions/caseload-events.ts), in the write's transaction. */
export interface CaseloadListener {
  /** Whether anyone listens now (else rows are not compared). */
  listening(): boolean;
  /** The rows a transaction changed (at least one), with its writes of the caseload types. */
  rowsChanged(db: Queryable, rows: CaseloadRowChange[], changes: WrittenChange[]): Promise<void>;
}

export class CaseloadSummary implements WriteObserver {
  constructor(private readonly listener?: CaseloadListener) {}

  watches(resourceType: string): boolean {
    return CASELOAD_TYPES.has(resourceType);
  }

  prepare(resource: Resource): { resource: Resource } {
    return { resource };
  }

  async beforeCommit(db: Queryable, changes: WrittenChange[]): Promise<void> {
    const patients = new Set<string>();
    for (const change of changes) {
      if (!CASELOAD_TYPES.has(change.resourceType)) continue;
      for (const version of [change.previous, change.current]) {
        if (version) for (const p of compartmentPatients(version)) patients.add(p);
      }
    }
    const ids = [...patients].sort();
    if (!ids.length) return;
    const listener = this.listener?.listening() ? this.listener : undefined;
    const { before, after } = await refreshCaseload(db, ids, compileCaseloadRows(ids), !!listener);
    if (!listener) return;
    const episodes = new Set(changes.filter((c) => c.resourceType === 'EpisodeOfCare').map((c) => c.id));
    const rows = caseloadChanges(before, after, episodes);
    if (rows.length) await listener.rowsChanged(db, rows, changes);
  }

  async afterCommit(): Promise<void> {}
}
