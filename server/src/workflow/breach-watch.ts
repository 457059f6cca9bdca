/**
 * The breach watch of one node: marks every open Task whose deadline
 * (`restriction.period.end`, set by the response clock or by hand) has passed
 * with the task-breach extension (valueDateTime = the deadline), in a new
 * version written as Hearth with its Provenance, so the task-overdue
 * subscription topic fires within moments of the breach with nothing read.
 *
 * It sleeps until the earliest pending deadline (plus the grace), at most the
 * interval, and is woken early when any node writes a Task with a deadline
 * (LISTEN on the channel a trigger notifies, migration 012). Safe with many
 * nodes: each Task is marked in a transaction of its own that locks it with
 * FOR UPDATE SKIP LOCKED and checks it is still due, so it is marked once
 * (a node that finds it held moves on; one that finds it marked leaves it),
 * and one a node crashes while marking is unlocked for the next to look. A
 * Task that cannot be marked (e.g. it no longer meets an enforced profile) is
 * logged and left for RETRY_MS, not allowed to hold up the others.
 */
import type { Task } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Repository } from '../repository/repository.ts';
import { DEADLINE_CHANNEL, dueTaskIds, lockTaskIfFree, nextDeadline } from '../store/deadlines.ts';
import { Listener } from '../store/listener.ts';
import { TASK_BREACH_EXTENSION } from '../subscriptions/topics.ts';
import { pendingDeadline } from './deadline.ts';
import { updateAsHearth } from './hearth-writes.ts';

export interface BreachWatchOptions {
  pool: pg.Pool;
  repo: Repository;
  /** The longest sleep between two looks, in ms (a missed notification is caught up by then). */
  intervalMs: number;
  /** How long after its deadline a Task is marked, in ms. */
  graceMs: number;
  log: Pick<Logger, 'warn'>;
}

/** Tasks looked at per query. */
const BATCH = 100;
/** How long a Task that could not be marked is left before it is tried again. */
const RETRY_MS = 5 * 60_000;
/** The pause before looking again while due Tasks are held by another node. */
const HELD_PAUSE_MS = 1000;

export class BreachWatch {
  private listener?: Listener;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Tasks that could not be marked, until when they are left alone. */
  private readonly failing = new Map<string, number>();

  constructor(private readonly options: BreachWatchOptions) {}

  async start(): Promise<void> {
    this.listener = new Listener(this.options.pool, [DEADLINE_CHANNEL], {
      onNotification: () => this.wake(),
      // Deadlines written while not listening are found by the look that follows.
      onRestored: () => this.wake(),
      onError: (error) => this.options.log.warn({ err: error }, 'breach watch: listening failed'),
    });
    await this.listener.start();
    this.wake();
  }

  /** Looks now (or right after the look under way). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.look().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listener?.stop();
    await this.running;
  }

  /** Marks everything due, then sleeps until the next deadline. */
  private async look(): Promise<void> {
    let next: Date | undefined;
    try {
      for (;;) {
        const { found, marked } = await this.markDue();
        if (this.stopped || found < BATCH || !marked) break;
      }
      next = await nextDeadline(this.options.pool);
    } catch (error) {
      this.options.log.warn({ err: error }, 'breach watch: marking failed; trying again');
    }
    if (this.stopped) return;
    const { intervalMs, graceMs } = this.options;
    // Still due after the look: held by another node (or failing): look again shortly.
    const wait = next ? next.getTime() + graceMs - Date.now() : intervalMs;
    this.timer = setTimeout(() => this.wake(), Math.min(intervalMs, wait > 0 ? wait : HELD_PAUSE_MS));
    this.timer.unref();
  }

  /** One batch: how many due Tasks it found, and marked. */
  private async markDue(): Promise<{ found: number; marked: number }> {
    const cutoff = new Date(Date.now() - this.options.graceMs);
    for (const [id, until] of this.failing) if (until <= Date.now()) this.failing.delete(id);
    const ids = await dueTaskIds(this.options.pool, cutoff, BATCH, [...this.failing.keys()]);
    let marked = 0;
    for (const id of ids) {
      if (this.stopped) break;
      try {
        if (await this.mark(id, cutoff)) marked++;
      } catch (error) {
        this.failing.set(id, Date.now() + RETRY_MS);
        this.options.log.warn({ err: error, task: id }, 'breach watch: a Task could not be marked');
      }
    }
    return { found: ids.length, marked };
  }

  /** Marks the Task if it is free and still due; whether it did. */
  private async mark(id: string, cutoff: Date): Promise<boolean> {
    return this.options.repo.asServer().transaction(async (tx) => {
      const row = await lockTaskIfFree(await tx.queryable(), id);
      if (!row) return false;
      const task = JSON.parse(row.content) as Task;
      const deadline = pendingDeadline(task);
      // Marked, closed or given a later deadline since it was found.
      if (!deadline || Date.parse(deadline) > cutoff.getTime()) return false;
      const end = task.restriction!.period!.end!;
      const marked: Task = {
        ...task,
        extension: [...(task.extension ?? []), { url: TASK_BREACH_EXTENSION, valueDateTime: end }],
      };
      await updateAsHearth(tx, marked, row.versionId, `Response or due time ${end} passed with the Task still open`);
      return true;
    });
  }
}
