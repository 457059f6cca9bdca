/**
 * Standardised intake (issue 7; DESIGN.md "Standardise intake"): what a
 * submitted referral must say (HearthReferral: who it is for, who asks, which
 * team or service should act, what kind, how urgent, why), every missing or
 * invalid item found at once; and the ServiceRequest and the fulfilment Tasks
 * (HearthReferralTask, one per receiving team: STANDARDS.md §3.3) that
 * `$submit-referral` writes. Pure: no database, no clock (`now` is passed in).
 */
import { generatedResources, HEARTH_CANONICAL } from '@hearth/fhir-profiles';
import type {
  Annotation,
  CodeSystem,
  OperationOutcomeIssue,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { issue } from '../fhir/errors.ts';
import { localTarget } from '../fhir/reference.ts';
import { triageStatus } from './referral.ts';

export const HEARTH_REFERRAL = `${HEARTH_CANONICAL}/StructureDefinition/HearthReferral`;
export const HEARTH_REFERRAL_TASK = `${HEARTH_CANONICAL}/StructureDefinition/HearthReferralTask`;
export const REFERRAL_CATEGORY_SYSTEM = `${HEARTH_CANONICAL}/CodeSystem/referral-category`;
export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';

/** The types each reference of a HearthReferral may point to (fhir-profiles/input/fsh/referral.fsh). */
export const REFERENCE_TYPES = {
  subject: ['Patient'],
  requester: ['PractitionerRole', 'Organization', 'Practitioner'],
  performer: ['CareTeam', 'HealthcareService', 'Organization', 'PractitionerRole'],
} as const;

const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'];
/** R4 request-intent codes (ServiceRequest.intent, required binding). */
const INTENTS = [
  'proposal',
  'plan',
  'directive',
  'order',
  'original-order',
  'reflex-order',
  'filler-order',
  'instance-order',
  'option',
];

let categories: ReadonlySet<string> | undefined;

/** The codes of Hearth's referral category code system (complete). */
export function referralCategories(): ReadonlySet<string> {
  categories ??= new Set(
    (
      generatedResources().find((r) => r.resourceType === 'CodeSystem' && r.url === REFERRAL_CATEGORY_SYSTEM) as
        CodeSystem | undefined
    )?.concept?.map((c) => c.code) ?? [],
  );
  return categories;
}

/** A reference of a referral, checked: its local Type/id when it points to one of `types`. */
export interface CheckedReference {
  expression: string;
  target: { resourceType: string; id: string };
}

/**
 * Every missing or invalid item of a submitted referral, each its own issue
 * with its FHIRPath `expression` (empty: the referral may be written), and the
 * well-formed references (for the caller to check they exist).
 */
export function referralProblems(sr: ServiceRequest): {
  issues: OperationOutcomeIssue[];
  references: CheckedReference[];
} {
  const issues: OperationOutcomeIssue[] = [];
  const references: CheckedReference[] = [];
  const missing = (path: string, what: string) =>
    issues.push(issue('required', `The referral must give ${what} (${path})`, [`ServiceRequest.${path}`]));
  const invalid = (path: string, what: string) => issues.push(issue('value', what, [`ServiceRequest.${path}`]));

  if (sr.status !== undefined && sr.status !== 'active') {
    invalid('status', `A submitted referral is active; status "${sr.status}" cannot be submitted`);
  }
  if (sr.intent !== undefined && !INTENTS.includes(sr.intent)) {
    invalid('intent', `intent "${String(sr.intent)}" is not a request intent (${INTENTS.join(', ')})`);
  }
  const checkRef = (ref: Reference | undefined, path: string, types: readonly string[], what: string) => {
    if (!ref) return missing(path, what);
    const target = ref.reference ? localTarget(ref.reference) : undefined;
    if (!target || !types.includes(target.resourceType)) {
      return invalid(
        path,
        `${path} must be a reference to a ${types.join(' or ')} on this server; got ${JSON.stringify(ref.reference ?? ref)}`,
      );
    }
    references.push({ expression: `ServiceRequest.${path}`, target });
  };
  checkRef(sr.subject, 'subject', REFERENCE_TYPES.subject, 'the patient it is for');
  checkRef(sr.requester, 'requester', REFERENCE_TYPES.requester, 'who is referring');
  if (!sr.performer?.length) missing('performer', 'the team or service that should act');
  sr.performer?.forEach((p, i) =>
    checkRef(p, `performer[${i}]`, REFERENCE_TYPES.performer, 'the team or service that should act'),
  );

  const codings = (sr.category ?? [])
    .flatMap((c) => c.coding ?? [])
    .filter((c) => c.system === REFERRAL_CATEGORY_SYSTEM);
  if (!codings.length) missing('category', `a referral category (a code of ${REFERRAL_CATEGORY_SYSTEM})`);
  for (const c of codings) {
    if (!c.code || !referralCategories().has(c.code)) {
      issues.push(
        issue(
          'code-invalid',
          `"${c.code ?? ''}" is not a Hearth referral category (${[...referralCategories()].join(', ')})`,
          ['ServiceRequest.category'],
        ),
      );
    }
  }
  if (!sr.priority) missing('priority', `its priority (${PRIORITIES.join(', ')})`);
  else if (!PRIORITIES.includes(sr.priority))
    invalid('priority', `priority "${sr.priority}" is not one of ${PRIORITIES.join(', ')}`);
  if (!sr.reasonCode?.length && !sr.reasonReference?.length) {
    issues.push(
      issue('required', 'The referral must say why: reasonCode or reasonReference', [
        'ServiceRequest.reasonCode',
        'ServiceRequest.reasonReference',
      ]),
    );
  }
  return { issues, references };
}

/**
 * The ServiceRequest to write: active, intent order unless given, authored
 * now unless given, claiming HearthReferral; the client's id and version
 * metadata are the server's to set (as in a create).
 */
export function preparedReferral(sr: ServiceRequest, now: string): ServiceRequest {
  const { id: _id, meta, ...rest } = sr;
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = meta ?? {};
  return {
    ...rest,
    resourceType: 'ServiceRequest',
    meta: { ...keptMeta, profile: [...new Set([...(keptMeta.profile ?? []), HEARTH_REFERRAL])] },
    status: 'active',
    intent: sr.intent ?? 'order',
    authoredOn: sr.authoredOn ?? now,
  };
}

/**
 * The fulfilment Tasks of a written referral: one per performer (each
 * receiving team owns its own), requested and awaiting triage (businessStatus),
 * intent order, code fulfill, focus the referral, for its patient, its
 * requester and priority, authored now, with the submitter's note to the team
 * if any.
 */
export function referralTasks(sr: ServiceRequest & { id: string }, now: string, note?: string): Task[] {
  const notes: Annotation[] | undefined = note ? [{ text: note, time: now }] : undefined;
  return (sr.performer ?? []).map((owner) => ({
    resourceType: 'Task',
    meta: { profile: [HEARTH_REFERRAL_TASK] },
    status: 'requested',
    businessStatus: triageStatus('awaiting-triage'),
    intent: 'order',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'fulfill' }] },
    priority: sr.priority,
    focus: { reference: `ServiceRequest/${sr.id}` },
    for: sr.subject,
    authoredOn: now,
    requester: sr.requester,
    owner: { reference: owner.reference, ...(owner.display ? { display: owner.display } : {}) },
    ...(notes ? { note: notes } : {}),
  }));
}

/**
 * The referral's own problems followed by the validator's errors (structure,
 * bindings, profile) that do not repeat them: one issue per item. An error on
 * an element already reported, or the invariants referralProblems checks
 * itself (hearth-sr-1 reason, hearth-sr-2 category), is left out.
 */
export function mergedIssues(
  own: OperationOutcomeIssue[],
  validator: OperationOutcomeIssue[],
): OperationOutcomeIssue[] {
  const element = (e: string) => e.replace(/\[\d+\]/g, '').replace(/\[x\]$/, '');
  const reported = own.flatMap((i) => i.expression ?? []).map(element);
  const covered = (e: string) => reported.some((r) => e === r || e.startsWith(`${r}.`));
  const extra = validator.filter((i) => {
    if (i.severity !== 'error' && i.severity !== 'fatal') return false;
    if (/hearth-sr-[12]\b/.test(i.diagnostics ?? i.details?.text ?? '')) return false;
    return !(i.expression ?? []).some((e) => covered(element(e)));
  });
  return [...own, ...extra];
}
