/**
 * Restricted roles: voluntary-sector and social-care partners (STANDARDS.md
 * §9.3 point 5, the Gravity "Direct-Light" pattern; docs/security-restricted.md).
 * A caller is restricted when the Organization it acts for has the type
 * `organization-type#voluntary`, or its PractitionerRole the code
 * `hearth-activity#restricted-access`. A restricted caller sees no patient's
 * record through a legitimate relationship; it sees only:
 * - Tasks it owns, and while such a Task is open (plus the grace period) the
 *   ServiceRequest in its focus, its patient (minimal demographics) and the
 *   resources its `input` refers to;
 * - CarePlans shared with it (a team it is in is in `careTeam`, or it performs
 *   an activity) and what they refer to (shares.ts);
 * - Communications it sent or received;
 * - resources about no patient (the directory, definitions) other than the
 *   work types above.
 * A consent deny naming it still hides the patient's data. It may update the
 * Tasks it owns (status, statusReason, businessStatus, output, note,
 * lastModified, executionPeriod), send Communications about patients shared
 * with it, and keep its own Subscriptions; nothing else. Pure: the Guard loads
 * the inputs and applies these; compile.ts filters searches with the same rules.
 */
import type { Communication, Organization, Patient, PractitionerRole, Resource, Task } from '@medplum/fhirtypes';
import { localKey } from '../fhir/reference.ts';
import { ACTIVITY_SYSTEM, hasCoding } from './sealing.ts';

export const ORGANIZATION_TYPE_SYSTEM = 'https://hearth.example/fhir/CodeSystem/organization-type';
export const VOLUNTARY_TYPE = 'voluntary';
export const RESTRICTED_ACTIVITY = 'restricted-access';

/** Types a restricted caller sees only when shared with it, even when they are about no patient. */
export const RESTRICTED_WORK_TYPES: readonly string[] = ['Task', 'ServiceRequest', 'CarePlan', 'Communication'];

/** Task elements the owner may change; any other change is refused. */
const TASK_OWNER_ELEMENTS = new Set([
  'status',
  'statusReason',
  'businessStatus',
  'output',
  'note',
  'lastModified',
  'executionPeriod',
  'meta',
  'text',
]);

/** Types a restricted caller may write, each on its own terms (restrictedWriteRefusal). */
const OWN_TYPES = new Set(['Subscription']);

/** Whether the caller's organisation or role makes it restricted. */
export function isRestricted(role: PractitionerRole | undefined, organization: Organization | undefined): boolean {
  return (
    hasCoding(organization?.type, ORGANIZATION_TYPE_SYSTEM, VOLUNTARY_TYPE) ||
    hasCoding(role?.code, ACTIVITY_SYSTEM, RESTRICTED_ACTIVITY)
  );
}

/** What a restricted caller acts as and what is shared with it now (Type/id of each resource). */
export interface RestrictedView {
  parties: ReadonlySet<string>;
  granted: ReadonlySet<string>;
}

export interface SeenItem {
  resourceType: string;
  id: string;
  /** The patients it is about (its compartments). */
  patients: readonly string[];
  /** Its content: a Communication is judged on its sender and recipients. */
  resource?: Resource;
}

/** Whether a restricted caller sees the item (a consent deny and sealing are judged apart). */
export function restrictedSees(view: RestrictedView, item: SeenItem): boolean {
  if (view.granted.has(`${item.resourceType}/${item.id}`)) return true;
  if (item.resourceType === 'Communication' && item.resource) return communicatesWith(view, item.resource);
  return item.patients.length === 0 && !RESTRICTED_WORK_TYPES.includes(item.resourceType);
}

/** A Communication sent by or to one of the parties. */
function communicatesWith(view: RestrictedView, resource: Resource): boolean {
  const c = resource as Communication;
  return [c.sender, ...(c.recipient ?? [])].some((r) => {
    const key = localKey(r?.reference);
    return !!key && view.parties.has(key);
  });
}

/**
 * Why a restricted caller may not write `next` (previous: the version it
 * replaces, undefined for a create); undefined when it may.
 */
export function restrictedWriteRefusal(
  view: RestrictedView,
  previous: Resource | undefined,
  next: Resource,
  patients: readonly string[],
): string | undefined {
  const type = next.resourceType;
  if (OWN_TYPES.has(type)) return undefined;
  if (type === 'Task') return taskRefusal(view, previous as Task | undefined, next as Task);
  if (type === 'Communication') {
    const sentBy = (c: Resource | undefined) => {
      const key = localKey((c as Communication | undefined)?.sender?.reference);
      return !!key && view.parties.has(key);
    };
    if (!sentBy(next) || (previous && !sentBy(previous))) {
      return 'A restricted role may send Communications only as their sender (Communication.sender: its role or organisation)';
    }
    const unshared = patients.filter((p) => !view.granted.has(`Patient/${p}`));
    if (unshared.length) {
      return `A restricted role may write only about patients shared with it, not ${unshared.map((p) => `Patient/${p}`).join(', ')}`;
    }
    return undefined;
  }
  return `A restricted role (voluntary sector, social care) may only update the Tasks it owns and send Communications, not write ${type}`;
}

function taskRefusal(view: RestrictedView, previous: Task | undefined, next: Task): string | undefined {
  if (!previous) return 'A restricted role may not create Tasks: it updates the Tasks it owns';
  const owns = (t: Task) => {
    const key = localKey(t.owner?.reference);
    return !!key && view.parties.has(key);
  };
  if (!owns(previous)) return `A restricted role may update only the Tasks it owns, not Task/${next.id}`;
  const changed = changedElements(previous, next).filter((e) => !TASK_OWNER_ELEMENTS.has(e));
  if (changed.length) {
    return (
      `A restricted role may change only a Task's ${[...TASK_OWNER_ELEMENTS].filter((e) => e !== 'meta' && e !== 'text').join(', ')}; ` +
      `not ${changed.join(', ')}`
    );
  }
  return undefined;
}

/** Top-level elements that differ between two versions (id and meta aside). */
function changedElements(a: Resource, b: Resource): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  const record = (r: Resource) => r as unknown as Record<string, unknown>;
  return [...names].filter(
    (n) => n !== 'id' && n !== 'meta' && JSON.stringify(record(a)[n]) !== JSON.stringify(record(b)[n]),
  );
}

/** Patient elements a restricted role sees (with id and meta): who the person is and how to reach them. */
const MINIMAL_PATIENT = [
  'resourceType',
  'id',
  'meta',
  'identifier',
  'name',
  'gender',
  'birthDate',
  'address',
  'telecom',
];
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

/**
 * The Patient as a restricted role sees it: minimal demographics, the rest
 * removed and `meta.tag` SUBSETTED (R4 search.html#summary: a resource with
 * elements left out is tagged so no one stores it back as the whole record).
 */
export function minimalPatient(patient: Patient): Patient {
  const source = patient as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const name = key.startsWith('_') ? key.slice(1) : key;
    if (MINIMAL_PATIENT.includes(name)) out[key] = source[key];
  }
  const tags = (patient.meta?.tag ?? []).filter((t) => !(t.system === SUBSETTED.system && t.code === SUBSETTED.code));
  out.meta = { ...patient.meta, tag: [...tags, SUBSETTED] };
  return out as unknown as Patient;
}
