/**
 * Runs one claimed export job from where it stands, phase by phase
 * (export-phases.ts): each type's resources page by page (keyset on id,
 * bounded memory), the rows the job's starter may see, exactly as their
 * search would select them (the Guard's SQL filter: their relationships,
 * sealing, restricted role, owned types; their scopes and restricted scope
 * queries), shaped as they are shown to them (a restricted role's minimal
 * Patient); then, for a `_since` export, each type's deletions since
 * (export-deleted.ts). Each page is written with the job's new position in
 * one transaction (store/exports.ts savePage), so a crash repeats no resource
 * and loses none. A type that fails is reported in the error file and the
 * job goes on (export-errors.ts).
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccessCache } from '../auth/access-cache.ts';
import { Guard } from '../auth/guard.ts';
import { compileExportPage } from '../search/export-page.ts';
import { deletedPage } from '../store/export-deleted.ts';
import { runExportPage, savePage, type ExportJob, type FilePart } from '../store/exports.ts';
import { accessOf, type Owner } from '../subscriptions/owner.ts';
import { deletedLines, type DeletedJudge } from './export-deleted.ts';
import { isTypeFailure, phaseFailure, unjudged, unreadable } from './export-errors.ts';
import { DELETED_FILE, ERROR_FILE } from './export-manifest.ts';
import { exportPhases, type ExportPhase } from './export-phases.ts';
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
  log?: Pick<Logger, 'warn'>;
  /** Asked between pages: stop (the node is closing) and leave the job to another. */
  stopping: () => boolean;
}

/** What a page of a phase wrote: its files' parts, and the last id when the phase goes on. */
interface Step {
  parts: FilePart[];
  count: number;
  lastId?: string;
  drop?: string;
}

/** 'done' when every phase is written; 'lost' when cancelled or the lease lost; 'stopped' when asked to stop. */
export async function runExport(job: ExportJob, deps: ExportRunDeps): Promise<'done' | 'lost' | 'stopped'> {
  const params = job.params as ExportParams;
  const owner = job.caller as Owner | null;
  const access = owner ? accessOf(owner) : undefined;
  const guard = owner ? new Guard(owner.identity, deps.graceMs, deps.accessCache, { scopes: owner.scopes }) : undefined;
  const filter = guard ? await guard.filter(deps.pool) : undefined;
  const shape = guard ? await guard.shaper(deps.pool) : (_type: string, content: string) => content;
  const judge: DeletedJudge = { db: deps.pool, params, access, guard };
  const phases = exportPhases(job.types, params.since);

  /** One page of a type's resources, as the starter's search selects and shows them. */
  async function outputPage(type: string, afterId: string): Promise<Step> {
    const requests = exportRequests(type, params, access);
    const patients = params.level === 'system' ? undefined : (params.patients ?? 'any');
    const page = { resourceType: type, requests, afterId, pin: job.pin, count: deps.pageSize, since: params.since };
    const rows = requests.length
      ? await runExportPage(deps.pool, compileExportPage({ ...page, patients }, { baseUrl: deps.baseUrl, ...filter }))
      : [];
    let ndjson = '';
    let errors = '';
    let count = 0;
    for (const row of rows) {
      try {
        ndjson += `${oneLine(shape(type, row.content))}\n`;
        count++;
      } catch {
        errors += unreadable(type, row.id);
      }
    }
    const parts = [
      { file: type, ndjson, count },
      { file: ERROR_FILE, ndjson: errors, count: rows.length - count },
    ];
    return { parts, count, lastId: rows.length === deps.pageSize ? rows[rows.length - 1].id : undefined };
  }

  /** One page of a type's deletions since `_since` the starter would have been given. */
  async function deletedStep(type: string, afterId: string): Promise<Step> {
    const since = params.since!;
    const rows = await deletedPage(deps.pool, {
      resourceType: type,
      afterId,
      pin: job.pin,
      since,
      count: deps.pageSize,
    });
    const lines = await deletedLines(type, rows, judge);
    const parts = [
      { file: DELETED_FILE, ndjson: lines.ndjson, count: lines.count },
      { file: ERROR_FILE, ndjson: lines.unjudged ? unjudged(type, lines.unjudged) : '', count: lines.unjudged ? 1 : 0 },
    ];
    return { parts, count: lines.count, lastId: rows.length === deps.pageSize ? rows[rows.length - 1].id : undefined };
  }

  async function stepOf(phase: ExportPhase, afterId: string): Promise<Step> {
    try {
      return phase.kind === 'output' ? await outputPage(phase.type, afterId) : await deletedStep(phase.type, afterId);
    } catch (error) {
      if (!isTypeFailure(error)) throw error;
      deps.log?.warn({ err: error, job: job.id, phase }, 'an export phase failed; reported in its error file');
      const failure = { file: ERROR_FILE, ndjson: phaseFailure(phase, error), count: 1 };
      // A type that failed has no file rather than part of one; deletions listed so far stay listed.
      return { parts: [failure], count: 0, ...(phase.kind === 'output' ? { drop: phase.type } : {}) };
    }
  }

  let { typeIndex, afterId } = job;
  while (typeIndex < phases.length) {
    if (deps.stopping()) return 'stopped';
    const step = await stepOf(phases[typeIndex], afterId);
    const next = step.lastId ? { typeIndex, afterId: step.lastId } : { typeIndex: typeIndex + 1, afterId: '' };
    const saved = await savePage(deps.pool, deps.node, deps.leaseSeconds, {
      jobId: job.id,
      parts: step.parts,
      count: step.count,
      ...(step.drop !== undefined ? { drop: step.drop } : {}),
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
