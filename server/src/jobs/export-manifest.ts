/**
 * What the status URL answers (Bulk Data IG export.html "Status Request"): the
 * progress of a running job (X-Progress, under 100 characters) and the
 * manifest of a finished one: `output` (a file per type), `deleted` (for a
 * `_since` export: a file of Bundles, one per deleted resource) and `error`
 * (a file of OperationOutcomes).
 */
import type { ExportJob } from '../store/exports.ts';
import { exportPhases } from './export-phases.ts';
import type { ExportParams } from './export-request.ts';

/** The `deleted` file's key (in export_output.resource_type and the file URL): not a resource type. */
export const DELETED_FILE = 'deleted';
/** The `error` file's key. */
export const ERROR_FILE = 'error';

interface FileItem {
  type: string;
  url: string;
  count: number;
}

export interface ExportManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: FileItem[];
  /** Only for a `_since` export. */
  deleted?: FileItem[];
  error: FileItem[];
}

/** The file URL of a job's type (or of its deleted or error file). */
export function fileUrl(baseUrl: string, jobId: string, type: string): string {
  return `${baseUrl}/$export-file?_jobId=${encodeURIComponent(jobId)}&type=${encodeURIComponent(type)}`;
}

export function statusUrl(baseUrl: string, jobId: string): string {
  return `${baseUrl}/$export-poll-status?_jobId=${encodeURIComponent(jobId)}`;
}

/** `counts`: what each file holds (store/exports.ts outputCounts), the deleted and error files included. */
export function manifest(baseUrl: string, job: ExportJob, counts: { type: string; count: number }[]): ExportManifest {
  const item = (key: string, type: string): FileItem[] => {
    const count = counts.find((c) => c.type === key)?.count ?? 0;
    return count > 0 ? [{ type, url: fileUrl(baseUrl, job.id, key), count }] : [];
  };
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: true,
    output: counts
      .filter((c) => c.count > 0 && job.types.includes(c.type))
      .map((c) => ({ ...c, url: fileUrl(baseUrl, job.id, c.type) })),
    ...((job.params as ExportParams).since ? { deleted: item(DELETED_FILE, 'Bundle') } : {}),
    error: item(ERROR_FILE, 'OperationOutcome'),
  };
}

/** X-Progress: how far a queued or running job is (at most 100 characters). */
export function progress(job: Pick<ExportJob, 'status' | 'types' | 'typeIndex' | 'exported' | 'params'>): string {
  if (job.status === 'queued') return 'Queued';
  const phases = exportPhases(job.types, (job.params as ExportParams | undefined)?.since);
  const total = phases.length;
  const at = Math.min(job.typeIndex + 1, total);
  const phase = phases[job.typeIndex];
  const what = phase ? ` (${phase.kind === 'deleted' ? `${phase.type} deleted` : phase.type})` : '';
  return `${job.exported} resources; step ${at} of ${total}${what}`.slice(0, 100);
}
