/**
 * Closing the loop (STANDARDS.md §3.3-3.4, Gravity closed-loop referral), on
 * every write path (a WriteRule `after`): when a referral Task (code fulfill)
 * moves to completed, in the same transaction, as Hearth:
 * - its ServiceRequest (focus) becomes completed, if it is active or on hold
 *   and no other fulfilment Task of it is still open (a referral sent to two
 *   teams is fulfilled when both are done);
 * - the referrer (the Task's requester) is sent a Communication with the
 *   outcome, from the Task's owner.
 * The task-completed subscription topic fires for the Task as for any.
 */
import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import type { WriteRule } from '../repository/observer.ts';
import type { Repository } from '../repository/repository.ts';
import { parseSearch } from '../search/parse.ts';
import { OPEN_TASK_STATUSES } from './task-state.ts';
import { createAsHearth, updateAsHearth } from './hearth-writes.ts';
import { focusRequestId, isReferralTask, referrerNotice } from './referral.ts';

const CLOSABLE = new Set(['active', 'on-hold']);

export const loopClosureRule: WriteRule = {
  types: new Set(['Task']),
  async after({ previous, current }, repo): Promise<void> {
    const task = current as Task;
    if (!previous || (previous as Task).status === 'completed' || task.status !== 'completed') return;
    if (!isReferralTask(task)) return;
    const requestId = focusRequestId(task);
    if (requestId && !(await othersOpen(repo, requestId, task.id!))) await completeRequest(repo, requestId, task);
    const notice = referrerNotice(task, `Referral completed. Outcome: ${outcomeText(task)}`, undefined);
    if (notice) await createAsHearth(repo, notice, `The referrer is told that Task/${task.id} is completed`);
  },
};

async function completeRequest(repo: Repository, id: string, task: Task): Promise<void> {
  const stored = await repo.readForUpdate('ServiceRequest', id).catch((error: unknown) => {
    if (error instanceof FhirError && (error.status === 404 || error.status === 410)) return undefined;
    throw error;
  });
  if (!stored?.content) return;
  const request = JSON.parse(stored.content) as ServiceRequest;
  if (!CLOSABLE.has(request.status)) return;
  await updateAsHearth(
    repo,
    { ...request, status: 'completed' } as Resource,
    stored.versionId,
    `Referral fulfilled: Task/${task.id} completed`,
  );
}

/** Whether another fulfilment Task of the ServiceRequest is still open. */
async function othersOpen(repo: Repository, requestId: string, taskId: string): Promise<boolean> {
  const request = parseSearch(
    'Task',
    [
      ['focus', `ServiceRequest/${requestId}`],
      ['status', [...OPEN_TASK_STATUSES].join(',')],
      ['_count', '2'],
    ],
    { defaultCount: 2, maxCount: 2, strict: true },
  );
  const { rows } = await repo.search(request, { withTotal: false });
  return rows.some((r) => r.id !== taskId);
}

/** The outcome as text: the status reason, or what the outputs say. */
export function outcomeText(task: Task): string {
  const outputs = (task.output ?? []).map(
    (o) =>
      o.valueString ??
      o.valueReference?.display ??
      o.valueReference?.reference ??
      o.valueCodeableConcept?.text ??
      o.type?.text ??
      '',
  );
  return [task.statusReason?.text, ...outputs].filter((t) => t?.trim()).join('; ') || 'recorded on the Task';
}
