/**
 * The deadline of a Task that the breach watch (breach-watch.ts) waits for,
 * read from the Task alone (pure): an open Task with `restriction.period.end`
 * (its response clock or due time) not yet marked breached. Indexed on every
 * write (search/extract.ts, table task_deadline), so the watch finds what is
 * due with one index range scan, and a Task leaves the index as soon as it is
 * marked, closed or given a later deadline.
 */
import type { Resource, Task } from '@medplum/fhirtypes';
import { dateRange } from '../search/dates.ts';
import { TASK_BREACH_EXTENSION } from '../subscriptions/topics.ts';
import { OPEN_TASK_STATUSES } from './task-state.ts';

/** The instant (ISO) the Task breaches, when it is open, has a deadline and is not yet marked. */
export function pendingDeadline(resource: Resource): string | undefined {
  if (resource.resourceType !== 'Task') return undefined;
  const task = resource as Task;
  if (!OPEN_TASK_STATUSES.has(task.status) || isBreached(task)) return undefined;
  const end = task.restriction?.period?.end;
  return end ? deadlineInstant(end) : undefined;
}

export function isBreached(task: Task): boolean {
  return !!task.extension?.some((e) => e.url === TASK_BREACH_EXTENSION);
}

/**
 * A dateTime with a time is due at that instant; a date (or month, year) at
 * the end of it (a task due "2025-03-01" is on time all that day, UTC).
 */
export function deadlineInstant(end: string): string | undefined {
  try {
    const range = dateRange(end);
    return end.includes('T') ? range.lo : range.hi;
  } catch {
    return undefined;
  }
}
