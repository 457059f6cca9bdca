/**
 * The response clock on every write path (a WriteRule `adjust`, so REST,
 * transactions, operations and Hearth's own writes alike):
 * - a referral Task (code fulfill) created open (not draft, not ended)
 *   without `restriction.period.end` gets one: its authoredOn (else now) plus
 *   the clock of its category and priority (response-clock.ts; the category
 *   is the ServiceRequest's, the priority the Task's, else the
 *   ServiceRequest's), and `period.start` = that start when it has none;
 * - a Task whose deadline changes loses its breach mark (the mark was of the
 *   old deadline), so the breach watch marks it again if the new one passes.
 */
import type { Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { RuleReader, WriteRule } from '../repository/observer.ts';
import { localKey } from '../fhir/reference.ts';
import { TASK_BREACH_EXTENSION } from '../subscriptions/topics.ts';
import { OPEN_TASK_STATUSES } from './task-state.ts';
import { focusRequestId, isReferralTask } from './referral.ts';
import { REFERRAL_CATEGORY_SYSTEM, responseDeadline, type ResponseClocks } from './response-clock.ts';

export function responseClockRule(clocks: ResponseClocks): WriteRule {
  return {
    types: new Set(['Task']),
    async adjust(previous: Resource | undefined, next: Resource, read: RuleReader): Promise<Resource> {
      const task = next as Task;
      if (previous) return withoutStaleBreach(previous as Task, task);
      if (!isReferralTask(task) || !OPEN_TASK_STATUSES.has(task.status) || task.restriction?.period?.end) return task;
      const requestId = focusRequestId(task);
      const request = requestId ? ((await read('ServiceRequest', requestId)) as ServiceRequest | undefined) : undefined;
      const start = task.authoredOn ?? new Date().toISOString();
      const { end } = responseDeadline(
        {
          start,
          priority: task.priority ?? request?.priority,
          categories: (request?.category ?? []).flatMap(
            (c) => c.coding?.filter((x) => x.system === REFERRAL_CATEGORY_SYSTEM && x.code).map((x) => x.code!) ?? [],
          ),
          owner: localKey(task.owner?.reference),
        },
        clocks,
      );
      const period = { start, ...task.restriction?.period, end };
      return { ...task, restriction: { ...task.restriction, period } };
    },
  };
}

function withoutStaleBreach(previous: Task, next: Task): Task {
  if (previous.restriction?.period?.end === next.restriction?.period?.end) return next;
  const extension = next.extension?.filter((e) => e.url !== TASK_BREACH_EXTENSION);
  if (extension?.length === next.extension?.length) return next;
  const { extension: _dropped, ...rest } = next;
  void _dropped;
  return extension?.length ? { ...rest, extension } : rest;
}
