/**
 * Keeps the task worklist (`task_worklist`, `patient_risk`;
 * task-worklist-sql.ts) current: a WriteObserver that refreshes the rows of
 * the Tasks written before anything in the same transaction reads
 * (beforeRead: its own searches, scope checks and conditional writes see
 * them), and each person's latest risk just before COMMIT of a
 * RiskAssessment write (under the per-person locks the caseload summary has
 * already taken, in id order, so two writers cannot deadlock).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { WriteObserver, WrittenChange } from '../repository/observer.ts';
import { compartmentPatients } from '../search/extract.ts';
import type { Queryable } from '../store/resources.ts';
import { refreshPatientRisk, refreshWorklist } from '../store/task-worklist.ts';
import { compilePatientRiskRows, compileWorklistRows } from './task-worklist-sql.ts';

export class TaskWorklist implements WriteObserver {
  watches(resourceType: string): boolean {
    return resourceType === 'Task' || resourceType === 'RiskAssessment';
  }

  prepare(resource: Resource): { resource: Resource } {
    return { resource };
  }

  async beforeRead(db: Queryable, changes: WrittenChange[]): Promise<void> {
    const ids = [...new Set(changes.filter((c) => c.resourceType === 'Task').map((c) => c.id))].sort();
    if (ids.length) await refreshWorklist(db, ids, compileWorklistRows(ids));
  }

  async beforeCommit(db: Queryable, changes: WrittenChange[]): Promise<void> {
    const patients = new Set<string>();
    for (const change of changes) {
      if (change.resourceType !== 'RiskAssessment') continue;
      for (const version of [change.previous, change.current]) {
        if (version) for (const p of compartmentPatients(version)) patients.add(p);
      }
    }
    const ids = [...patients].sort();
    if (ids.length) await refreshPatientRisk(db, ids, compilePatientRiskRows(ids));
  }

  async afterCommit(): Promise<void> {}
}
