/**
 * A worker of one kind of job (export_job.kind), one per node: it claims
 * queued jobs (and jobs whose node died: their lease ran out) one at a time
 * with FOR UPDATE SKIP LOCKED, runs them and marks them done; on close it
 * gives its job back for another node to go on with. Finished jobs are
 * removed after the retention period. Bulk Data export (export-worker.ts) and
 * risk stratification (population/stratify-run.ts) are its kinds.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { claimJob, finishJob, pruneJobs, releaseJob, type ExportJob, type JobKind } from '../store/exports.ts';

export interface JobWorkerOptions {
  pool: pg.Pool;
  node: string;
  kind: JobKind;
  leaseSeconds: number;
  pollMs: number;
  retentionHours: number;
  log: Pick<Logger, 'warn' | 'error'>;
  /** Runs a claimed job from where it stands: 'done', 'lost' (cancelled, lease lost) or 'stopped' (asked to stop). */
  run(job: ExportJob, stopping: () => boolean): Promise<'done' | 'lost' | 'stopped'>;
}

export class JobWorker {
  private timers: NodeJS.Timeout[] = [];
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: JobWorkerOptions) {}

  start(): void {
    const { pool, retentionHours, log, kind, pollMs } = this.options;
    this.timers.push(setInterval(() => this.wake(), pollMs));
    const prune = () =>
      pruneJobs(pool, retentionHours).catch((err) => log.warn({ err }, `removing old ${kind} jobs failed`));
    this.timers.push(setInterval(prune, 3600_000));
    void prune();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.running;
  }

  /** Looks for work unless already busy. */
  wake(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain()
      .catch((err) => this.options.log.warn({ err }, `${this.options.kind} worker failed`))
      .finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    const { pool, node, leaseSeconds, kind, log } = this.options;
    while (!this.stopped) {
      const job = await claimJob(pool, node, leaseSeconds, kind);
      if (!job) return;
      try {
        const outcome = await this.options.run(job, () => this.stopped);
        if (outcome === 'done') await finishJob(pool, job.id, node);
        else if (outcome === 'stopped') await releaseJob(pool, job.id, node);
      } catch (err) {
        log.error({ err, job: job.id }, `${kind} job failed`);
        await finishJob(pool, job.id, node, `the ${kind} job could not be completed (see the server log)`);
      }
    }
  }
}
