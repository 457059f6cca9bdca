/**
 * The export worker, one per node: it claims queued jobs (and jobs whose
 * node died: their lease ran out) one at a time with FOR UPDATE SKIP LOCKED,
 * runs them (export-run.ts) and marks them done; on close it gives its job
 * back for another node to go on with. Finished jobs and their files are
 * removed after the retention period.
 */
import type { Logger } from 'pino';
import type { ExportConfig } from '../config.ts';
import { claimJob, finishJob, pruneJobs, releaseJob } from '../store/exports.ts';
import { runExport, type ExportRunDeps } from './export-run.ts';

export class ExportWorker {
  private timers: NodeJS.Timeout[] = [];
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly deps: Omit<ExportRunDeps, 'stopping' | 'leaseSeconds' | 'pageSize'> & {
      config: ExportConfig;
      log: Pick<Logger, 'warn' | 'error'>;
    },
  ) {}

  start(): void {
    this.timers.push(setInterval(() => this.wake(), this.deps.config.pollMs));
    const prune = () =>
      pruneJobs(this.deps.pool, this.deps.config.retentionHours).catch((err) =>
        this.deps.log.warn({ err }, 'removing old export jobs failed'),
      );
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
      .catch((err) => this.deps.log.warn({ err }, 'export worker failed'))
      .finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    const { config, node, pool, log } = this.deps;
    while (!this.stopped) {
      const job = await claimJob(pool, node, config.leaseSeconds);
      if (!job) return;
      try {
        const outcome = await runExport(job, {
          ...this.deps,
          leaseSeconds: config.leaseSeconds,
          pageSize: config.pageSize,
          stopping: () => this.stopped,
        });
        if (outcome === 'done') await finishJob(pool, job.id, node);
        else if (outcome === 'stopped') await releaseJob(pool, job.id, node);
      } catch (err) {
        log.error({ err, job: job.id }, 'export job failed');
        await finishJob(pool, job.id, node, 'the export could not be completed (see the server log)');
      }
    }
  }
}
