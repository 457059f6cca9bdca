/**
 * `$stratify` (system level; docs/population-stratify.md): risk
 * stratification and segmentation of the whole population as an
 * asynchronous job in the Bulk Data async pattern (STANDARDS.md §7.1): POST
 * with `Prefer: respond-async` answers 202 with the status URL in
 * Content-Location; the status URL (`$stratify-status`) answers 202 with
 * X-Progress while it runs, 200 with a JSON account of what it wrote when
 * done; DELETE cancels it. It writes about everyone, so it needs a system
 * client registered for every patient whose token allows creating
 * Observation, RiskAssessment and Group (e.g. system/*.cruds); a user's token
 * is refused (Hearth has no administrator user role).
 */
import { randomUUID } from 'node:crypto';
import type { Access } from '../auth/access.ts';
import { requireScope } from '../auth/access.ts';
import { FhirError, informational } from '../fhir/errors.ts';
import type { HearthOperation } from '../interactions/operations.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from '../interactions/types.ts';
import { jobOwner } from '../jobs/export-operations.ts';
import { deleteJob, insertJob, readJob, type ExportJob } from '../store/exports.ts';
import { countPatients } from '../store/stratify.ts';
import { PHASES, type StratifyParams } from './stratify-run.ts';

const RETRY_AFTER_SECONDS = 2;

export function stratifyStatusUrl(baseUrl: string, jobId: string): string {
  return `${baseUrl}/$stratify-status?_jobId=${encodeURIComponent(jobId)}`;
}

/** Only a system client for every patient whose scopes allow writing the results. */
function checkCaller(access: Access | undefined): void {
  if (!access) return;
  if (access.identity.kind !== 'system' || !access.identity.allPatients) {
    throw new FhirError(
      'forbidden',
      '$stratify needs a system client registered for every patient (SMART Backend Services)',
    );
  }
  for (const type of ['Observation', 'RiskAssessment', 'Group']) requireScope(access, type, 'c');
}

async function kickOff(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  checkCaller(ctx.access);
  const prefer = (req.headers.prefer ?? '').split(/[,;]/).map((p) => p.trim());
  if (!prefer.includes('respond-async')) {
    throw new FhirError('invalid', '$stratify is asynchronous: send the header Prefer: respond-async');
  }
  const db = await ctx.repo.queryable();
  const params: StratifyParams = { population: await countPatients(db) };
  const job = await insertJob(db, {
    id: randomUUID(),
    kind: 'stratify',
    owner: jobOwner(ctx.access),
    caller: ctx.access ? { identity: ctx.access.identity, scopes: ctx.access.scopes } : null,
    request: `${ctx.baseUrl}/$stratify`,
    params,
    types: PHASES,
  });
  const url = stratifyStatusUrl(ctx.baseUrl, job.id);
  return { status: 202, body: informational(`$stratify started: poll ${url}`), headers: { 'Content-Location': url } };
}

/** X-Progress (under 100 characters). */
export function stratifyProgress(job: Pick<ExportJob, 'status' | 'typeIndex' | 'exported' | 'params'>): string {
  if (job.status === 'queued') return 'Queued';
  const { population } = job.params as StratifyParams;
  if (job.typeIndex === 0) return `Scoring: ${job.exported} of about ${population} people`;
  return `Writing the segment and cohort Groups (${job.exported} people scored)`;
}

function jobIdOf(req: FhirRequest): string {
  const id = req.query.find(([k]) => k === '_jobId')?.[1];
  if (!id) throw new FhirError('invalid', '_jobId is required');
  return id;
}

async function status(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const id = jobIdOf(req);
  const db = await ctx.repo.queryable();
  const owner = jobOwner(ctx.access);
  if (req.method === 'DELETE') {
    if (!(await deleteJob(db, id, owner, 'stratify')))
      throw new FhirError('not-found', `$stratify job ${id} is not known`);
    return {
      status: 202,
      body: informational(`$stratify job ${id} is cancelled (batches already written stay: each is complete)`),
    };
  }
  const job = await readJob(db, id, owner, 'stratify');
  if (!job) throw new FhirError('not-found', `$stratify job ${id} is not known`);
  if (job.status === 'queued' || job.status === 'running') {
    return {
      status: 202,
      headers: { 'X-Progress': stratifyProgress(job), 'Retry-After': String(RETRY_AFTER_SECONDS) },
    };
  }
  if (job.status === 'error') throw new FhirError('exception', `The stratification failed: ${job.error ?? 'unknown'}`);
  return { status: 200, body: JSON.stringify(job.result), contentType: 'application/json' };
}

export const STRATIFY_OPERATIONS: HearthOperation[] = [
  {
    code: 'stratify',
    type: false,
    instance: false,
    affectsState: true,
    title: 'Risk stratification and segmentation of the population',
    description:
      'Asynchronous (Prefer: respond-async): per person an eFI Observation and a RiskAssessment (Hearth risk model), ' +
      'the Bridges-to-Health segment Groups and the complex-needs cohort Group. 202 with Content-Location: the ' +
      'status URL. System clients registered for every patient only.',
    parameters: [],
    handle: kickOff,
  },
  {
    code: 'stratify-status',
    type: false,
    instance: false,
    affectsState: false,
    methods: ['GET', 'DELETE'],
    title: 'Status of a $stratify job',
    description:
      'GET: 202 with X-Progress while it runs, 200 with a JSON account of what it wrote (counts per band, risk and ' +
      'segment; the Group references) when done. DELETE: cancels it (202). Only for the client that started it.',
    parameters: [{ name: '_jobId', use: 'in', min: 1, max: '1', type: 'string', documentation: 'The job' }],
    handle: status,
  },
];
