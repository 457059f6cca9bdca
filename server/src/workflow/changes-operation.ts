/**
 * "What changed since I last looked" (issue 7 item 5): `Patient/{id}/$changes`
 * answers, in one indexed query (driven by the patient's `_patient` index
 * rows, i.e. its compartment, with `_lastUpdated=gt<since>`), every plan, task,
 * referral, message and caseload resource of the patient changed after
 * `since`, each once in its current version, oldest change first, paged, as
 * the caller may see them (their guard filters in SQL, as any search). Without
 * `since` it is the caller's last look at this patient (recorded per reader on
 * every first page). Deletions are not listed: a deleted resource has left the
 * record (a clinical correction is entered-in-error, a new version, listed).
 */
import { allows } from '../auth/access.ts';
import { FhirError } from '../fhir/errors.ts';
import type { HearthOperation } from '../interactions/operations.ts';
import { parseOptions, searchset } from '../interactions/search.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from '../interactions/types.ts';
import { parseSearch } from '../search/parse.ts';
import { recordLook } from '../store/collaboration.ts';
import { readerOf } from './reader.ts';

/** What a team follows about a person. */
export const CHANGE_TYPES = [
  'Patient',
  'CarePlan',
  'Goal',
  'CareTeam',
  'EpisodeOfCare',
  'ServiceRequest',
  'Task',
  'Communication',
  'CommunicationRequest',
  'Appointment',
  'Consent',
];

/**
 * A change committing while a look is recorded may carry a lastUpdated just
 * before it: a look from the last one re-reads this much before it, so such a
 * change is listed (maybe twice), never missed.
 */
export const LOOK_OVERLAP_MS = 5_000;

export const changes: HearthOperation = {
  code: 'changes',
  resourceType: 'Patient',
  type: false,
  instance: true,
  affectsState: false,
  title: 'What changed for a patient since a time (or my last look)',
  description:
    `The patient's ${CHANGE_TYPES.join(', ')} resources changed after since (or after the caller's last look), ` +
    'each once in its current version, oldest change first, as a paged searchset of what the caller may see. ' +
    "Each first page records the caller's look.",
  parameters: [
    {
      name: 'since',
      use: 'in',
      min: 0,
      max: '1',
      type: 'instant',
      documentation: "Changes after this instant; absent: after the caller's last look (everything on a first look)",
    },
    {
      name: '_type',
      use: 'in',
      min: 0,
      max: '*',
      type: 'string',
      documentation: `Only these types (comma-separated; of ${CHANGE_TYPES.join(', ')})`,
    },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle', documentation: 'A searchset of the changes' },
  ],
  scope: { type: 'Patient', permission: 'r' },
  handle: (req, ctx, id) => changesOf(req, ctx, id!),
};

export const CHANGES_OPERATIONS: HearthOperation[] = [changes];

async function changesOf(req: FhirRequest, ctx: InteractionContext, patientId: string): Promise<FhirResponse> {
  const reader = readerOf(ctx.access);
  // Unknown, or a patient the caller may not see: 404, as a read.
  await ctx.repo.read('Patient', patientId);
  const types = changeTypes(req).filter((t) => allows(ctx.access, t, 's'));
  if (!types.length) throw new FhirError('forbidden', 'The access token allows search on none of the types asked for');
  const value = (name: string) => req.query.find(([k]) => k === name)?.[1] ?? bodyValue(req, name);
  const cursor = value('_cursor');
  let since = value('since') ?? lastUpdatedSince(value('_lastUpdated'));
  if (since !== undefined && Number.isNaN(Date.parse(since))) {
    throw new FhirError('invalid', `since must be an instant (e.g. 2026-01-05T09:00:00Z); got "${since}"`);
  }
  if (!cursor) {
    const previous = await recordLook(await ctx.repo.queryable(), reader, patientId, new Date().toISOString());
    if (since === undefined && previous) since = new Date(Date.parse(previous) - LOOK_OVERLAP_MS).toISOString();
  }
  const params: [string, string][] = [['_sort', '_lastUpdated']];
  if (since !== undefined) params.push(['_lastUpdated', `gt${new Date(Date.parse(since)).toISOString()}`]);
  for (const name of ['_count', '_cursor']) if (value(name) !== undefined) params.push([name, value(name)!]);
  const request = parseSearch(types[0], params, parseOptions(req, ctx));
  request.resourceTypes = types;
  request.aboutPatient = patientId;
  return searchset(ctx, request, `Patient/${patientId}/$changes`, [['_type', types.join(',')]]);
}

function changeTypes(req: FhirRequest): string[] {
  const asked = [
    ...req.query.filter(([k]) => k === '_type').map(([, v]) => v),
    ...((req.body as { parameter?: { name?: string; valueString?: string }[] } | undefined)?.parameter ?? [])
      .filter((p) => p.name === '_type')
      .map((p) => p.valueString ?? ''),
  ]
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = asked.filter((t) => !CHANGE_TYPES.includes(t));
  if (unknown.length) {
    throw new FhirError('invalid', `$changes covers ${CHANGE_TYPES.join(', ')}; not ${unknown.join(', ')}`);
  }
  return asked.length ? [...new Set(asked)] : CHANGE_TYPES;
}

/** A paging link carries `_lastUpdated=gt…` rather than `since`. */
function lastUpdatedSince(value: string | undefined): string | undefined {
  return value?.startsWith('gt') ? value.slice(2) : undefined;
}

function bodyValue(req: FhirRequest, name: string): string | undefined {
  const body = req.body as { resourceType?: string; parameter?: { name?: string; [k: string]: unknown }[] } | undefined;
  if (body?.resourceType !== 'Parameters') return undefined;
  const p = body.parameter?.find((x) => x.name === name);
  const v = p?.valueInstant ?? p?.valueDateTime ?? p?.valueString ?? p?.valueInteger;
  return v === undefined ? undefined : String(v);
}
