/**
 * The export worker, one per node: a JobWorker (job-worker.ts) of kind
 * 'export' running each claimed job with runExport (export-run.ts).
 */
import type { Logger } from 'pino';
import type { ExportConfig } from '../config.ts';
import { runExport, type ExportRunDeps } from './export-run.ts';
import { JobWorker } from './job-worker.ts';

export class ExportWorker extends JobWorker {
  constructor(
    deps: Omit<ExportRunDeps, 'stopping' | 'leaseSeconds' | 'pageSize'> & {
      config: ExportConfig;
      log: Pick<Logger, 'warn' | 'error'>;
    },
  ) {
    const { config } = deps;
    super({
      pool: deps.pool,
      node: deps.node,
      kind: 'export',
      leaseSeconds: config.leaseSeconds,
      pollMs: config.pollMs,
      retentionHours: config.retentionHours,
      log: deps.log,
      run: (job, stopping) =>
        runExport(job, { ...deps, leaseSeconds: config.leaseSeconds, pageSize: config.pageSize, stopping }),
    });
  }
}
