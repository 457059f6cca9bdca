/**
 * What the triage operations and loop rules share about a referral's
 * fulfilment Task (STANDARDS.md §3.3: Task code fulfill, focus the
 * ServiceRequest; HearthReferralTask): recognising one, its triage state
 * (businessStatus, HearthTriageOutcome) and the notice that tells the
 * referrer what happened (a HearthCommunication to the Task's requester,
 * about the referral and the Task, filed under the patient).
 */
import type { CodeableConcept, Communication, Reference, Resource, Task } from '@medplum/fhirtypes';
import { localTarget } from '../fhir/reference.ts';

export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
export const TRIAGE_SYSTEM = 'https://hearth.example/fhir/CodeSystem/triage-outcome';
const COMMUNICATION_PROFILE = 'https://hearth.example/fhir/StructureDefinition/HearthCommunication';

export type TriageState =
  | 'awaiting-triage'
  | 'awaiting-information'
  | 'accepted'
  | 'redirected'
  | 'declined'
  | 'contact-attempted'
  | 'in-service'
  | 'discharged';

const TRIAGE_DISPLAY: Record<TriageState, string> = {
  'awaiting-triage': 'Awaiting triage',
  'awaiting-information': 'Awaiting information',
  accepted: 'Accepted',
  redirected: 'Redirected',
  declined: 'Declined',
  'contact-attempted': 'Contact attempted',
  'in-service': 'In service',
  discharged: 'Discharged',
};

/** A referral's fulfilment Task: code fulfill. */
export function isReferralTask(resource: Resource | undefined): resource is Task {
  return (
    resource?.resourceType === 'Task' &&
    !!resource.code?.coding?.some((c) => c.system === TASK_CODE_SYSTEM && c.code === 'fulfill')
  );
}

/** The id of the ServiceRequest a Task fulfils (its focus), when it is one on this server. */
export function focusRequestId(task: Task): string | undefined {
  const target = task.focus?.reference ? localTarget(task.focus.reference) : undefined;
  return target?.resourceType === 'ServiceRequest' ? target.id : undefined;
}

export function triageStatus(state: TriageState): CodeableConcept {
  return { coding: [{ system: TRIAGE_SYSTEM, code: state, display: TRIAGE_DISPLAY[state] }] };
}

export function triageStateOf(task: Task): string | undefined {
  return task.businessStatus?.coding?.find((c) => c.system === TRIAGE_SYSTEM)?.code;
}

/**
 * A completed message from `sender` (else the Task's owner) to the Task's
 * requester about the referral and the Task; undefined when there is no
 * patient, requester or sender (no one to tell, nowhere to file it).
 */
export function referrerNotice(
  task: Task,
  text: string,
  sender: Reference | undefined,
  about: Reference[] = [],
): Communication | undefined {
  const from = (sender ?? (task.owner?.reference ? { reference: task.owner.reference } : undefined)) as
    Communication['sender'] | undefined;
  if (!task.for?.reference || !task.requester?.reference || !from) return undefined;
  const refs = [...(task.focus ? [{ reference: task.focus.reference }] : []), { reference: `Task/${task.id}` }];
  return {
    resourceType: 'Communication',
    meta: { profile: [COMMUNICATION_PROFILE] },
    status: 'completed',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'notification' }] },
    ],
    subject: { reference: task.for.reference },
    about: [...refs, ...about],
    sent: new Date().toISOString(),
    recipient: [{ reference: task.requester.reference }],
    sender: from,
    payload: [{ contentString: text }],
  };
}
