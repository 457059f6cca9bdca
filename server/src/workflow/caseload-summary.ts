/**
 * Keeps the caseload summary (`caseload_entry`, workflow/caseload-sql.ts)
 * current: a WriteObserver that, in the transaction of every write (create,
 * update, delete) of a type the summary is worked out from, refreshes the rows
 * of the patients the old and new versions are about, just before COMMIT, so
 * the summary changes exactly when what it summarises does.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { WriteObserver, WrittenChange } from '../repository/observer.ts';
import { compartmentPatients } from '../search/extract.ts';
import { refreshCaseload } from '../store/caseload.ts';
import type { Queryable } from '../store/resources.ts';
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

export class CaseloadSummary implements WriteObserver {
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
    if (ids.length) await refreshCaseload(db, ids, compileCaseloadRows(ids));
  }

  async afterCommit(): Promise<void> {}
}
