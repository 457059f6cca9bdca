/** The team inbox's referrals: Tasks the user's role, organisation or team owns that wait for triage. */
import type { Patient, Practitioner, PractitionerRole, Organization, ServiceRequest, Task } from '@medplum/fhirtypes';
import { byReference, entries, type FhirClient } from '../../fhir/client.ts';

export interface Referral {
  task: Task;
  request?: ServiceRequest;
  patient?: Patient;
  requester?: Practitioner | PractitionerRole | Organization;
}

/** Open and untriaged (requested, received) or waiting on the referrer (on-hold). */
export const INBOX_STATUSES = 'requested,received,on-hold';

export async function loadReferrals(client: FhirClient, owners: string[]): Promise<Referral[]> {
  if (!owners.length) return [];
  const bundle = await client.search('Task', {
    owner: owners.join(','),
    status: INBOX_STATUSES,
    _include: ['Task:focus', 'Task:patient', 'Task:requester'],
    _count: '100',
  });
  const known = byReference(bundle);
  return entries<Task>(bundle)
    .map((task) => ({
      task,
      request: known.get(task.focus?.reference ?? '') as ServiceRequest | undefined,
      patient: known.get(task.for?.reference ?? '') as Patient | undefined,
      requester: known.get(task.requester?.reference ?? '') as Referral['requester'],
    }))
    .sort((a, b) => deadline(a.task) - deadline(b.task));
}

function deadline(task: Task): number {
  const end = task.restriction?.period?.end;
  return end ? Date.parse(end) : Number.MAX_SAFE_INTEGER;
}

/** The triage state (businessStatus) in words. */
export function triageState(task: Task): string {
  const code = task.businessStatus?.coding?.[0]?.code ?? task.businessStatus?.text;
  switch (code) {
    case 'awaiting-triage':
      return 'Awaiting triage';
    case 'awaiting-information':
      return 'Waiting for information';
    default:
      return task.status === 'on-hold' ? 'On hold' : task.status === 'received' ? 'Received' : 'New';
  }
}
