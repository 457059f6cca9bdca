/**
 * `ServiceRequest/$submit-referral` and `ServiceRequest/$check-duplicates`
 * (issue 7, standardised intake; docs/workflow-intake.md). Submitting checks
 * the referral's structured content (every problem at once, 422), then in one
 * transaction writes the ServiceRequest and a fulfilment Task per receiving
 * team, warning of (or, with onDuplicate=reject, refusing with 409) an open
 * referral of the same patient to the same service. Everything runs as the
 * caller: their access, write rules, Provenance and audit, as plain REST.
 */
import { randomUUID } from 'node:crypto';
import type { Parameters, ServiceRequest, Task } from '@medplum/fhirtypes';
import { requireScope, requireWriteScope } from '../auth/access.ts';
import { FhirError, issue, outcome } from '../fhir/errors.ts';
import { localKey } from '../fhir/reference.ts';
import { operationInput, type HearthOperation } from '../interactions/operations.ts';
import { versionUrl, type FhirRequest, type FhirResponse, type InteractionContext } from '../interactions/types.ts';
import type { Repository } from '../repository/repository.ts';
import { parseSearch } from '../search/parse.ts';
import { duplicateIssues, findDuplicates, OPEN_REFERRAL_STATUSES, type Duplicate } from './duplicates.ts';
import { mergedIssues, preparedReferral, referralProblems, referralTasks } from './referral-intake.ts';
import { partsNamed } from './params.ts';

/** Most open referrals of one patient looked at for duplicates. */
const MAX_CANDIDATES = 1000;

const REFERRAL_PARAMETER = {
  name: 'referral',
  use: 'in',
  min: 1,
  max: '1',
  type: 'ServiceRequest',
  documentation: 'The referral (HearthReferral): subject, requester, performer, category, priority, reason',
} as const;

export const submitReferral: HearthOperation = {
  code: 'submit-referral',
  resourceType: 'ServiceRequest',
  type: true,
  instance: false,
  affectsState: true,
  title: 'Submit a referral',
  description:
    'Checks a referral (HearthReferral) and reports every missing or invalid item at once (422); then, in one ' +
    'transaction, creates the ServiceRequest (active) and one fulfilment Task (HearthReferralTask, requested, owned ' +
    'by the performer) per receiving team. An open referral of the same patient to the same service is reported as ' +
    'a duplicate warning, or refused (409) with onDuplicate=reject.',
  parameters: [
    REFERRAL_PARAMETER,
    {
      name: 'note',
      use: 'in',
      min: 0,
      max: '1',
      type: 'string',
      documentation: "A note to the receiving team, kept on each Task's note",
    },
    {
      name: 'onDuplicate',
      use: 'in',
      min: 0,
      max: '1',
      type: 'code',
      documentation: 'warn (default): create and warn; reject: refuse with 409 when an open referral duplicates it',
    },
    { name: 'referral', use: 'out', min: 1, max: '1', type: 'ServiceRequest', documentation: 'The referral written' },
    { name: 'task', use: 'out', min: 1, max: '*', type: 'Task', documentation: 'Its fulfilment Tasks' },
    {
      name: 'outcome',
      use: 'out',
      min: 1,
      max: '1',
      type: 'OperationOutcome',
      documentation: 'What happened, with a duplicate warning per open referral it duplicates',
    },
  ],
  scope: { type: 'ServiceRequest', permission: 'c' },
  handle: (req, ctx) => submit(req, ctx),
};

export const checkDuplicates: HearthOperation = {
  code: 'check-duplicates',
  resourceType: 'ServiceRequest',
  type: true,
  instance: false,
  affectsState: false,
  title: 'Find open referrals a referral would duplicate',
  description:
    'The open referrals (ServiceRequest active or on hold, with a Task not finished) of the same patient to the ' +
    'same service as a referral (or as patient and performer), among those the caller may see. Writes nothing.',
  parameters: [
    { ...REFERRAL_PARAMETER, min: 0, documentation: 'The referral about to be made (or give patient and performer)' },
    { name: 'patient', use: 'in', min: 0, max: '1', type: 'string', documentation: 'Patient/id' },
    { name: 'performer', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Type/id of a team or service' },
    {
      name: 'duplicate',
      use: 'out',
      min: 0,
      max: '*',
      type: 'Reference',
      documentation: 'An open referral it duplicates',
    },
    { name: 'outcome', use: 'out', min: 1, max: '1', type: 'OperationOutcome', documentation: 'One issue each' },
  ],
  scope: { type: 'ServiceRequest', permission: 's' },
  handle: (req, ctx) => check(req, ctx),
};

export const INTAKE_OPERATIONS: HearthOperation[] = [submitReferral, checkDuplicates];

async function submit(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  // A restricted Task scope (`Task.c?owner=…`) allows it where each Task matches (checked before commit).
  requireWriteScope(ctx.access, 'Task', 'c');
  requireScope(ctx.access, 'ServiceRequest', 's');
  requireScope(ctx.access, 'Task', 's');
  const input = operationInput(req);
  const submitted = referralInput(input, true)!;
  const note = stringParam(input, 'note');
  const onDuplicate = stringParam(input, 'onDuplicate') ?? 'warn';
  if (onDuplicate !== 'warn' && onDuplicate !== 'reject') {
    throw new FhirError('invalid', `onDuplicate must be warn or reject; got "${onDuplicate}"`);
  }
  const now = new Date().toISOString();
  const { issues, references } = referralProblems(submitted);
  return ctx.repo.transaction(async (tx) => {
    const subject = references.find((r) => r.expression === 'ServiceRequest.subject');
    // A patient the caller has no relationship with is refused before anything about it is told (as a write is).
    if (subject && tx.guard && !(await tx.guard.allows(await tx.queryable(), [subject.target.id]))) {
      throw new FhirError(
        'forbidden',
        `No legitimate relationship with Patient/${subject.target.id}: referral refused`,
      );
    }
    for (const ref of references) {
      if (await exists(tx, ref.target.resourceType, ref.target.id)) continue;
      issues.push(issue('not-found', `${ref.target.resourceType}/${ref.target.id} is not known`, [ref.expression]));
    }
    const referral = preparedReferral(submitted, now);
    const problems = mergedIssues(issues, ctx.validation.issues(referral));
    if (problems.length) {
      throw new FhirError('processing', `The referral cannot be submitted: ${problems.length} problem(s)`, {
        issues: problems,
      });
    }
    // Submissions for one patient are serialised, so two at once cannot both miss each other as duplicates.
    await tx.lockCriteria('ServiceRequest', `subject=Patient/${subject!.target.id}`);
    const duplicates = await openDuplicates(tx, referral);
    if (duplicates.length && onDuplicate === 'reject') {
      throw new FhirError('conflict', 'An open referral of this patient to this service exists', {
        issues: duplicateIssues(duplicates, 'error'),
      });
    }
    const written = await tx.create(referral, randomUUID());
    const sr = written.resource as ServiceRequest & { id: string };
    const tasks: Task[] = [];
    for (const task of referralTasks(sr, now, note)) tasks.push((await tx.create(task)).resource as Task);
    const result: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'referral', resource: sr },
        ...tasks.map((resource) => ({ name: 'task', resource })),
        {
          name: 'outcome',
          resource: outcome(
            issue('informational', `Referral ServiceRequest/${sr.id} submitted`, undefined, 'information'),
            ...duplicateIssues(duplicates, 'warning'),
          ),
        },
      ],
    };
    return { status: 201, body: result, location: versionUrl(ctx.baseUrl, written) };
  });
}

async function check(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  requireScope(ctx.access, 'Task', 's');
  const input = operationInput(req);
  const referral = referralInput(input, false) ?? {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: stringParam(input, 'patient') },
    performer: allStrings(input, 'performer').map((reference) => ({ reference })),
  };
  if (!localKey(referral.subject?.reference)?.startsWith('Patient/')) {
    throw new FhirError('invalid', '$check-duplicates needs a referral, or patient (Patient/id) and performer');
  }
  if (!referral.performer?.some((p) => localKey(p.reference))) {
    throw new FhirError('invalid', '$check-duplicates needs at least one performer (Type/id)');
  }
  const duplicates = await openDuplicates(ctx.repo, referral);
  const result: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      ...duplicates.map((d) => ({
        name: 'duplicate',
        valueReference: { reference: `ServiceRequest/${d.referral.id}` },
      })),
      {
        name: 'outcome',
        resource: duplicates.length
          ? outcome(...duplicateIssues(duplicates, 'warning'))
          : outcome(issue('informational', 'No open referral duplicates it', undefined, 'information')),
      },
    ],
  };
  return { status: 200, body: result };
}

/** The open referrals (with their Tasks) of the referral's patient to its performers that the caller may see, that it duplicates. */
async function openDuplicates(repo: Repository, referral: ServiceRequest): Promise<Duplicate[]> {
  const performers = (referral.performer ?? []).map((p) => localKey(p.reference)).filter((p) => p !== undefined);
  const request = parseSearch(
    'ServiceRequest',
    [
      ['subject', localKey(referral.subject?.reference)!],
      ['status', OPEN_REFERRAL_STATUSES.join(',')],
      ['performer', performers.join(',')],
      ['_revinclude', 'Task:focus'],
    ],
    { defaultCount: MAX_CANDIDATES, maxCount: MAX_CANDIDATES, strict: true },
  );
  const found = await repo.search(request, { withTotal: false });
  const candidates = found.rows.map((r) => JSON.parse(r.content) as ServiceRequest);
  const tasks = found.included.filter((r) => r.resource_type === 'Task').map((r) => JSON.parse(r.content) as Task);
  return findDuplicates(referral, candidates, tasks);
}

/** Whether Type/id exists and the caller may see it (hidden is answered as absent). */
async function exists(repo: Repository, resourceType: string, id: string): Promise<boolean> {
  try {
    await repo.read(resourceType, id);
    return true;
  } catch (error) {
    if (error instanceof FhirError && (error.category === 'not-found' || error.category === 'deleted')) return false;
    throw error;
  }
}

/** The `referral` parameter (or a ServiceRequest posted as the body); 400 when it is not a ServiceRequest. */
function referralInput(input: Parameters, required: boolean): ServiceRequest | undefined {
  const p = input.parameter?.find((x) => x.name === 'referral' || x.name === 'resource');
  if (!p) {
    if (!required) return undefined;
    throw new FhirError('invalid', 'The referral parameter (a ServiceRequest) is required', {
      expression: ['Parameters.parameter'],
    });
  }
  if (p.resource?.resourceType !== 'ServiceRequest') {
    throw new FhirError('invalid', 'The referral parameter must hold a ServiceRequest resource', {
      expression: ['Parameters.parameter'],
    });
  }
  return p.resource;
}

function stringParam(input: Parameters, name: string): string | undefined {
  return allStrings(input, name)[0];
}

function allStrings(input: Parameters, name: string): string[] {
  return partsNamed(input.parameter, name)
    .map((p) => p.valueString ?? p.valueCode ?? p.valueReference?.reference)
    .filter((v): v is string => typeof v === 'string' && v !== '');
}
