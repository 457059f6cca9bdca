/**
 * Runs one claimed export job from where it stands: type by type, page by
 * page (keyset on id, bounded memory), the rows the job's starter may see,
 * exactly as their search would select them (the Guard's SQL filter: their
 * relationships, sealing, restricted role, owned types; their scopes and
 * restricted scope queries), shaped as they are shown to them (a restricted
 * role's minimal Patient). Each page is written with the job's new position
 * in one transaction (store/exports.ts savePage), so a crash repeats no
 * resource and loses none.
 */
import type pg from 'pg';
import type { AccessCache } from '../auth/access-cache.ts';
import { Guard } from '../auth/guard.ts';
import { compileExportPage } from '../search/export-page.ts';
import { runExportPage, savePage, type ExportJob } from '../store/exports.ts';
import { accessOf, type Owner } from '../subscriptions/owner.ts';
import { exportRequests } from './export-query.ts';
import type { ExportParams } from './export-request.ts';

export interface ExportRunDeps {
  pool: pg.Pool;
  baseUrl: string;
  graceMs: number;
  accessCache: AccessCache;
  node: string;
  leaseSeconds: number;
  pageSize: number;
  /** Asked between pages: stop (the node is closing) and leave the job to another. */
  stopping: () => boolean;
}

/** 'done' when every type is written; 'lost' when cancelled or the lease lost; 'stopped' when asked to stop. */
export async function runExport(job: ExportJob, deps: ExportRunDeps): Promise<'done' | 'lost' | 'stopped'> {
  const params = job.params as ExportParams;
  const owner = job.caller as Owner | null;
  const access = owner ? accessOf(owner) : undefined;
  const guard = owner ? new Guard(owner.identity, deps.graceMs, deps.accessCache, { scopes: owner.scopes }) : undefined;
  const filter = guard ? await guard.filter(deps.pool) : undefined;
  const shape = guard ? await guard.shaper(deps.pool) : (_type: string, content: string) => content;
  const patients = params.level === 'system' ? undefined : (params.patients ?? 'any');
  let { typeIndex, afterId } = job;
  while (typeIndex < job.types.length) {
    if (deps.stopping()) return 'stopped';
    const type = job.types[typeIndex];
    const requests = exportRequests(type, params, access);
    const rows = requests.length
      ? await runExportPage(
          deps.pool,
          compileExportPage(
            {
              resourceType: type,
              requests,
              afterId,
              pin: job.pin,
              count: deps.pageSize,
              since: params.since,
              patients,
            },
            { baseUrl: deps.baseUrl, ...filter },
          ),
        )
      : [];
    const last = rows.length === deps.pageSize;
    const ndjson = rows.map((row) => `${oneLine(shape(type, row.content))}\n`).join('');
    const next = last ? { typeIndex, afterId: rows[rows.length - 1].id } : { typeIndex: typeIndex + 1, afterId: '' };
    const saved = await savePage(deps.pool, deps.node, deps.leaseSeconds, {
      jobId: job.id,
      resourceType: type,
      ndjson,
      count: rows.length,
      ...next,
    });
    if (!saved) return 'lost';
    ({ typeIndex, afterId } = next);
  }
  return 'done';
}

/** NDJSON: one resource per line (stored JSON is compact; anything else is made so). */
function oneLine(content: string): string {
  return content.includes('\n') ? JSON.stringify(JSON.parse(content)) : content;
}
