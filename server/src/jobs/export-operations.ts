/**
 * Bulk Data `$export` (Bulk Data Access IG v2, async request pattern;
 * STANDARDS.md §7.1): kick-off at system, Patient and Group level (GET, or
 * POST with Parameters) queues a job (export-worker.ts runs it on any node)
 * and answers 202 with the status URL; the status URL (`$export-poll-status`)
 * answers 202 with X-Progress while it runs, 200 with the manifest when done,
 * and DELETE cancels it; `$export-file` serves a file's NDJSON (a type's, or
 * the deleted or error file). A job, its status and its files are its
 * starter's alone (another caller is told it is not known), and hold only
 * what the starter may see (export-run.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Group, Parameters } from '@medplum/fhirtypes';
import type { Access } from '../auth/access.ts';
import { FhirError, informational } from '../fhir/errors.ts';
import type { HearthOperation } from '../interactions/operations.ts';
import { preferValue, type FhirRequest, type FhirResponse, type InteractionContext } from '../interactions/types.ts';
import { deleteJob, insertJob, outputCounts, presentTypes, readJob, readPart } from '../store/exports.ts';
import { exportRequests, exportTypes, patientCompartmentTypes } from './export-query.ts';
import { NDJSON, readExportParams, type ExportInput, type ExportLevel } from './export-request.ts';
import { DELETED_FILE, ERROR_FILE, manifest, progress, statusUrl } from './export-manifest.ts';

export const EXPORT_FILE_PATH = '$export-file';
/** Seconds a client is asked to wait before polling again. */
const RETRY_AFTER_SECONDS = 2;
const IG = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/';

/** Who a job belongs to: the client and, for a user, the role (or practitioner) they act as. */
export function jobOwner(access: Access | undefined): string {
  if (!access) return 'anonymous';
  const { clientId, practitionerRole, practitioner } = access.identity;
  return `${clientId}|${practitionerRole ?? practitioner ?? ''}`;
}

const kickOffParameters: HearthOperation['parameters'] = [
  { name: '_outputFormat', use: 'in', min: 0, max: '1', type: 'string', documentation: `${NDJSON} (the default)` },
  { name: '_since', use: 'in', min: 0, max: '1', type: 'instant', documentation: 'Only resources changed after' },
  { name: '_type', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Comma-separated resource types' },
  { name: '_typeFilter', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Search queries per type' },
];
const patientParameter = {
  name: 'patient',
  use: 'in' as const,
  min: 0,
  max: '*',
  type: 'Reference' as const,
  documentation: 'Only the compartments of these patients',
};

function kickOff(level: ExportLevel, code: string): HearthOperation['handle'] {
  return async (req, ctx, id) => {
    const prefer = (req.headers.prefer ?? '').split(/[,;]/).map((p) => p.trim());
    if (!prefer.includes('respond-async')) {
      throw new FhirError('invalid', `$export is asynchronous: send the header Prefer: respond-async`);
    }
    const lenient = preferValue(req.headers.prefer, 'handling') === 'lenient';
    const compartment = patientCompartmentTypes();
    const params = readExportParams(inputsOf(req), level, { lenient, compartment, groupId: id });
    if (level === 'group') params.patients = await groupPatients(ctx, id!, params.patients);
    const db = await ctx.repo.queryable();
    const types = exportTypes(params, ctx.access, await presentTypes(db));
    for (const type of types) exportRequests(type, params, ctx.access); // 400 now for a _typeFilter that cannot run
    const query = new URLSearchParams(req.query).toString();
    const job = await insertJob(db, {
      id: randomUUID(),
      owner: jobOwner(ctx.access),
      caller: ctx.access ? { identity: ctx.access.identity, scopes: ctx.access.scopes } : null,
      request: `${ctx.baseUrl}/${req.path}${query ? `?${query}` : ''}`,
      params,
      types,
    });
    return {
      status: 202,
      body: informational(`${code} started: poll ${statusUrl(ctx.baseUrl, job.id)}`),
      headers: { 'Content-Location': statusUrl(ctx.baseUrl, job.id) },
    };
  };
}

/** URL parameters and a POST body's Parameters, as name/value strings. */
function inputsOf(req: FhirRequest): ExportInput[] {
  const inputs: ExportInput[] = req.query.map(([name, value]) => ({ name, value }));
  const body = req.body as Parameters | undefined;
  if (body === undefined || body === null || (body as unknown) === '') return inputs;
  if (body.resourceType !== 'Parameters') throw new FhirError('invalid', '$export takes a Parameters resource');
  for (const p of body.parameter ?? []) {
    const value =
      p.valueString ?? p.valueCode ?? p.valueInstant ?? p.valueDateTime ?? p.valueUri ?? p.valueReference?.reference;
    if (!p.name || value === undefined) throw new FhirError('invalid', `$export parameter "${p.name}" has no value`);
    inputs.push({ name: p.name, value });
  }
  return inputs;
}

/**
 * The Group's members (Patient entities not marked inactive) the caller may see the Group of (404 otherwise),
 * narrowed to `patient` if given (each must be a member: 400 otherwise).
 */
async function groupPatients(ctx: InteractionContext, id: string, asked: string[] | undefined): Promise<string[]> {
  const group = JSON.parse((await ctx.repo.read('Group', id)).content!) as Group;
  const members = (group.member ?? [])
    .filter((m) => !m.inactive)
    .map((m) => /^Patient\/([^/]+)$/.exec(m.entity.reference ?? '')?.[1])
    .filter((p): p is string => !!p);
  if (!asked) return [...new Set(members)];
  const outside = asked.filter((p) => !members.includes(p));
  if (outside.length) {
    throw new FhirError('invalid', `Not members of Group/${id}: ${outside.map((p) => `Patient/${p}`).join(', ')}`);
  }
  return asked;
}

function jobIdOf(req: FhirRequest): string {
  const id = req.query.find(([k]) => k === '_jobId')?.[1];
  if (!id) throw new FhirError('invalid', '_jobId is required');
  return id;
}

async function ownJob(req: FhirRequest, ctx: InteractionContext) {
  const id = jobIdOf(req);
  const job = await readJob(await ctx.repo.queryable(), id, jobOwner(ctx.access));
  if (!job) throw new FhirError('not-found', `Export job ${id} is not known`);
  return job;
}

async function pollStatus(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  if (req.method === 'DELETE') {
    const id = jobIdOf(req);
    if (!(await deleteJob(await ctx.repo.queryable(), id, jobOwner(ctx.access)))) {
      throw new FhirError('not-found', `Export job ${id} is not known`);
    }
    return { status: 202, body: informational(`Export job ${id} is cancelled and its files removed`) };
  }
  const job = await ownJob(req, ctx);
  if (job.status === 'queued' || job.status === 'running') {
    return {
      status: 202,
      headers: { 'X-Progress': progress(job), 'Retry-After': String(RETRY_AFTER_SECONDS) },
    };
  }
  if (job.status === 'error') throw new FhirError('exception', `The export failed: ${job.error ?? 'unknown error'}`);
  const counts = await outputCounts(await ctx.repo.queryable(), job.id);
  return {
    status: 200,
    body: JSON.stringify(manifest(ctx.baseUrl, job, counts)),
    contentType: 'application/json',
  };
}

async function exportFile(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const job = await ownJob(req, ctx);
  const type = req.query.find(([k]) => k === 'type')?.[1];
  const files = [...job.types, DELETED_FILE, ERROR_FILE];
  if (job.status !== 'done' || !type || !files.includes(type)) {
    throw new FhirError('not-found', `Export job ${job.id} has no file${type ? ` for ${type}` : ''}`);
  }
  const db = await ctx.repo.queryable();
  async function* parts(): AsyncIterable<string> {
    for (let part = 1; ; part++) {
      const content = await readPart(db, job.id, type!, part);
      if (content === undefined) return;
      yield content;
    }
  }
  return { status: 200, stream: parts(), contentType: NDJSON };
}

export const EXPORT_OPERATIONS: HearthOperation[] = [
  {
    code: 'export',
    type: false,
    instance: false,
    affectsState: false,
    title: 'Bulk Data export of everything the caller may see',
    description: 'System-level $export (Bulk Data IG v2): NDJSON per type of what the caller may search.',
    parameters: kickOffParameters,
    standardDefinition: `${IG}export`,
    handle: kickOff('system', '$export'),
  },
  {
    code: 'export',
    resourceType: 'Patient',
    type: true,
    instance: false,
    affectsState: false,
    title: 'Bulk Data export of every patient the caller may see',
    description: 'Patient-level $export: the Patient compartments of the patients the caller may see.',
    parameters: [...kickOffParameters, patientParameter],
    scope: { type: 'Patient', permission: 's' },
    standardDefinition: `${IG}patient-export`,
    handle: kickOff('patient', 'Patient/$export'),
  },
  {
    code: 'export',
    resourceType: 'Group',
    type: false,
    instance: true,
    affectsState: false,
    title: "Bulk Data export of a Group's members",
    description: "Group-level $export: the Patient compartments of the Group's members the caller may see.",
    parameters: [...kickOffParameters, patientParameter],
    scope: { type: 'Group', permission: 'r' },
    standardDefinition: `${IG}group-export`,
    handle: kickOff('group', 'Group/$export'),
  },
  {
    code: 'export-poll-status',
    type: false,
    instance: false,
    affectsState: false,
    methods: ['GET', 'DELETE'],
    title: 'Status of a Bulk Data export',
    description:
      'GET: 202 with X-Progress while the export runs, 200 with its manifest when done. DELETE: cancels it and ' +
      'removes its files (202). Only for the client (and user) that started it.',
    parameters: [{ name: '_jobId', use: 'in', min: 1, max: '1', type: 'string', documentation: 'The export job' }],
    handle: pollStatus,
  },
  {
    code: 'export-file',
    type: false,
    instance: false,
    affectsState: false,
    methods: ['GET'],
    title: 'A file of a Bulk Data export',
    description: `The ${NDJSON} file of one type of a finished export, for the client (and user) that started it.`,
    parameters: [
      { name: '_jobId', use: 'in', min: 1, max: '1', type: 'string', documentation: 'The export job' },
      {
        name: 'type',
        use: 'in',
        min: 1,
        max: '1',
        type: 'string',
        documentation: `The resource type, or ${DELETED_FILE} (the deleted file) or ${ERROR_FILE} (the error file)`,
      },
    ],
    handle: exportFile,
  },
];
