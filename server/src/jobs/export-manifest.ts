/**
 * What the status URL answers (Bulk Data IG export.html "Status Request"): the
 * progress of a running job (X-Progress, under 100 characters) and the
 * manifest of a finished one.
 */
import type { ExportJob } from '../store/exports.ts';

export interface ExportManifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string }[];
}

/** The file URL of a job's type. */
export function fileUrl(baseUrl: string, jobId: string, type: string): string {
  return `${baseUrl}/$export-file?_jobId=${encodeURIComponent(jobId)}&type=${encodeURIComponent(type)}`;
}

export function statusUrl(baseUrl: string, jobId: string): string {
  return `${baseUrl}/$export-poll-status?_jobId=${encodeURIComponent(jobId)}`;
}

export function manifest(baseUrl: string, job: ExportJob, counts: { type: string; count: number }[]): ExportManifest {
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: true,
    output: counts.filter((c) => c.count > 0).map((c) => ({ ...c, url: fileUrl(baseUrl, job.id, c.type) })),
    error: [],
  };
}

/** X-Progress: how far a queued or running job is (at most 100 characters). */
export function progress(job: Pick<ExportJob, 'status' | 'types' | 'typeIndex' | 'exported'>): string {
  if (job.status === 'queued') return 'Queued';
  const total = job.types.length;
  const at = Math.min(job.typeIndex + 1, total);
  const type = job.types[job.typeIndex] ?? '';
  return `${job.exported} resources; type ${at} of ${total}${type ? ` (${type})` : ''}`.slice(0, 100);
}
