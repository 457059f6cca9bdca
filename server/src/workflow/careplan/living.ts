/**
 * The living care plan (DESIGN.md "Work from the care plan"): one CarePlan per
 * person per team that is still in use (draft, active or on-hold). A plan's
 * teams are the CareTeams it names in careTeam, and its author when that is a
 * CareTeam; its person is its subject. Pure: the rule, $living and the MDT
 * decisions all ask these.
 */
import type { CarePlan, Resource } from '@medplum/fhirtypes';
import { localKey } from '../../fhir/reference.ts';

/** The statuses of a plan still in use: at most one such plan per person and team. */
export const LIVING_STATUSES: ReadonlySet<string> = new Set(['draft', 'active', 'on-hold']);

export function isLivingStatus(status: string | undefined): boolean {
  return !!status && LIVING_STATUSES.has(status);
}

/** `Patient/id` of the plan's subject, when it is a patient of this server. */
export function planPatient(plan: CarePlan): string | undefined {
  const key = localKey(plan.subject?.reference);
  return key?.startsWith('Patient/') ? key : undefined;
}

/** `CareTeam/id` of each team the plan belongs to (careTeam, and a CareTeam author). */
export function planTeams(plan: CarePlan): string[] {
  const refs = [...(plan.careTeam ?? []), ...(plan.author ? [plan.author] : [])];
  const keys = refs.map((r) => localKey(r.reference)).filter((k): k is string => !!k?.startsWith('CareTeam/'));
  return [...new Set(keys)];
}

/** Whether the resource is a living plan of the patient and team (both `Type/id`). */
export function isLivingPlanOf(resource: Resource, patient: string, team: string): resource is CarePlan {
  if (resource.resourceType !== 'CarePlan') return false;
  return isLivingStatus(resource.status) && planPatient(resource) === patient && planTeams(resource).includes(team);
}

/**
 * Of some stored plans (the same patient's), the first living one that shares a team with `plan`, other than
 * `plan` itself: the plan a new or changed `plan` would duplicate.
 */
export function duplicateLivingPlan(plan: CarePlan, others: CarePlan[]): { plan: CarePlan; team: string } | undefined {
  const patient = planPatient(plan);
  if (!patient || !isLivingStatus(plan.status)) return undefined;
  for (const team of planTeams(plan)) {
    const other = others.find((o) => o.id !== plan.id && isLivingPlanOf(o, patient, team));
    if (other) return { plan: other, team };
  }
  return undefined;
}
