/**
 * Duplicate referrals (issue 7): a referral duplicates an open one when both
 * are for the same patient, to the same team or service (a performer in
 * common), and the earlier one is still open: its ServiceRequest active or on
 * hold, and at least one of its fulfilment Tasks not finished. Pure: the
 * candidates (the patient's active referrals and their Tasks) are found by
 * the caller, with its access (intake-operations.ts).
 */
import type { OperationOutcomeIssue, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { issue } from '../fhir/errors.ts';
import { localKey } from '../fhir/reference.ts';

export const OPEN_REFERRAL_STATUSES = ['active', 'on-hold'] as const;
/** Task states in which the work is over (STANDARDS.md §3.2 terminal states). */
export const FINISHED_TASK = new Set(['completed', 'failed', 'cancelled', 'rejected', 'entered-in-error']);

export interface Duplicate {
  referral: ServiceRequest;
  /** The performers it shares with the new referral (Type/id). */
  shared: string[];
  /** Its open fulfilment Tasks. */
  openTasks: Task[];
}

/** How a reference is compared: its local Type/id, else its text. */
function key(ref: Reference | undefined): string | undefined {
  return localKey(ref?.reference) ?? ref?.reference;
}

/** The open referrals among `candidates` that `referral` duplicates (`tasks`: the candidates' Tasks). */
export function findDuplicates(referral: ServiceRequest, candidates: ServiceRequest[], tasks: Task[]): Duplicate[] {
  const patient = key(referral.subject);
  const performers = new Set((referral.performer ?? []).map(key).filter((k) => k !== undefined));
  const out: Duplicate[] = [];
  for (const c of candidates) {
    if (!c.id || (referral.id && c.id === referral.id)) continue;
    if (!patient || key(c.subject) !== patient) continue;
    if (!(OPEN_REFERRAL_STATUSES as readonly string[]).includes(c.status)) continue;
    const shared = [...new Set((c.performer ?? []).map(key).filter((k) => k !== undefined && performers.has(k)))];
    if (!shared.length) continue;
    const openTasks = tasks.filter((t) => key(t.focus) === `ServiceRequest/${c.id}` && !FINISHED_TASK.has(t.status));
    if (!openTasks.length) continue;
    out.push({ referral: c, shared: shared as string[], openTasks });
  }
  return out;
}

/** One issue per duplicate, naming it (`warning` when the referral is still made, `error` when refused). */
export function duplicateIssues(duplicates: Duplicate[], severity: 'warning' | 'error'): OperationOutcomeIssue[] {
  return duplicates.map((d) =>
    issue(
      'duplicate',
      `${key(d.referral.subject)} already has an open referral to ${d.shared.join(', ')}: ` +
        `ServiceRequest/${d.referral.id}` +
        (d.referral.authoredOn ? ` (authored ${d.referral.authoredOn})` : '') +
        `, its Task${d.openTasks.length > 1 ? 's' : ''} ${d.openTasks.map((t) => `Task/${t.id} (${t.status})`).join(', ')}`,
      ['ServiceRequest.performer'],
      severity,
    ),
  );
}
