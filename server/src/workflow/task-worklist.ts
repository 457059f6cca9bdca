/**
 * Keeps the task worklist (`task_worklist`, task-worklist-sql.ts) current: a
 * WriteObserver that, in the transaction of every write of a Task or a
 * RiskAssessment, just before COMMIT, refreshes the rows of the Tasks written
 * and of every Task about a person whose assessment was written. Runs after
 * the caseload summary, which has already taken the same per-person locks.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { WriteObserver, WrittenChange } from '../repository/observer.ts';
import { compartmentPatients } from '../search/extract.ts';
import type { Queryable } from '../store/resources.ts';
import { refreshWorklist } from '../store/task-worklist.ts';
import { compileWorklistRows } from './task-worklist-sql.ts';

export class TaskWorklist implements WriteObserver {
  watches(resourceType: string): boolean {
    return resourceType === 'Task' || resourceType === 'RiskAssessment';
  }

  prepare(resource: Resource): { resource: Resource } {
    return { resource };
  }

  async beforeCommit(db: Queryable, changes: WrittenChange[]): Promise<void> {
    const taskIds = new Set<string>();
    const patientIds = new Set<string>();
    const locked = new Set<string>();
    for (const change of changes) {
      if (!this.watches(change.resourceType)) continue;
      if (change.resourceType === 'Task') taskIds.add(change.id);
      for (const version of [change.previous, change.current]) {
        if (!version) continue;
        for (const p of compartmentPatients(version)) {
          locked.add(p);
          if (change.resourceType === 'RiskAssessment') patientIds.add(p);
        }
      }
    }
    if (!taskIds.size && !patientIds.size) return;
    const which = { taskIds: [...taskIds].sort(), patientIds: [...patientIds].sort() };
    await refreshWorklist(db, { ...which, lockedPatients: [...locked].sort() }, compileWorklistRows(which));
  }

  async afterCommit(): Promise<void> {}
}
