/**
 * One living CarePlan per person per team, on every write path (POST, PUT,
 * PATCH, transaction and batch entries, operations: all go through the
 * Repository). A plan that would be a second draft/active/on-hold plan of the
 * same patient and team is refused with 422 business-rule naming the plan
 * that already is (R4 http.html: 422 for a server business rule; 409 is kept
 * for version conflicts). Writes of one person's plans are serialised by a
 * transaction lock, so two at once cannot both pass; the transaction's earlier
 * writes are seen (readsStore).
 */
import type { CarePlan, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import type { WriteRule } from '../../repository/observer.ts';
import { lockPatientCarePlans, readPatientCarePlans } from '../../store/careplans.ts';
import type { Queryable } from '../../store/resources.ts';
import { duplicateLivingPlan, isLivingStatus, planPatient, planTeams } from './living.ts';

export const livingPlanRule: WriteRule = {
  types: new Set(['CarePlan']),
  readsStore: true,
  async check(previous: Resource | undefined, next: Resource, _guard, db: Queryable): Promise<void> {
    const plan = { ...(next as CarePlan), id: previous?.id ?? next.id };
    const patient = planPatient(plan);
    if (!patient || !isLivingStatus(plan.status) || !planTeams(plan).length) return;
    const patientId = patient.slice('Patient/'.length);
    await lockPatientCarePlans(db, patientId);
    const others = (await readPatientCarePlans(db, patientId)).map((c) => JSON.parse(c) as CarePlan);
    const duplicate = duplicateLivingPlan(plan, others);
    if (!duplicate) return;
    throw new FhirError(
      'business-rule',
      `${patient} already has a living care plan with ${duplicate.team}: CarePlan/${duplicate.plan.id} ` +
        `(${duplicate.plan.status}); update that plan, or complete or revoke it first`,
      { expression: ['CarePlan.status'] },
    );
  },
};
