/**
 * The SQL of the breach watch (workflow/breach-watch.ts) on task_deadline
 * (migration 012): the pending deadlines of open Tasks, kept with their
 * versions like the search index rows.
 */
import type { Queryable } from './resources.ts';

/** Channel notified when a write adds a deadline (a trigger on task_deadline, migration 012). */
export const DEADLINE_CHANNEL = 'hearth_task_deadline';

/** Ids of Tasks whose deadline is at or before `cutoff`, earliest first, but those in `skip`. */
export async function dueTaskIds(db: Queryable, cutoff: Date, limit: number, skip: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>({
    name: 'due-task-ids',
    text: `SELECT id FROM task_deadline
            WHERE due <= $1 AND resource_type = 'Task' AND NOT (id = ANY($3::text[]))
            ORDER BY due LIMIT $2`,
    values: [cutoff, limit, skip],
  });
  return rows.map((r) => r.id);
}

/**
 * The current version of a Task, locked for the rest of the transaction, or
 * undefined when another transaction holds it (another node marking it, a
 * caller writing it: skipped, not waited for) or it is gone.
 */
export async function lockTaskIfFree(
  db: Queryable,
  id: string,
): Promise<{ versionId: number; content: string } | undefined> {
  const { rows } = await db.query<{ version_id: number; content: string }>({
    name: 'lock-task-if-free',
    text: `SELECT version_id, content FROM resource
            WHERE resource_type = 'Task' AND id = $1 AND NOT deleted
              FOR UPDATE SKIP LOCKED`,
    values: [id],
  });
  return rows[0] && { versionId: rows[0].version_id, content: rows[0].content };
}

/** The earliest pending deadline, if any. */
export async function nextDeadline(db: Queryable): Promise<Date | undefined> {
  const { rows } = await db.query<{ due: Date | null }>({
    name: 'next-task-deadline',
    text: 'SELECT min(due) AS due FROM task_deadline',
  });
  return rows[0].due ?? undefined;
}
