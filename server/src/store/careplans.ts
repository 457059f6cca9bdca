/** SQL of the living care plan rule (workflow/careplan): a person's plans, and the lock that serialises their writes. */
import type { Queryable } from './resources.ts';

/**
 * The current CarePlans whose subject is the patient (`id`), any status, with their content: a person has a
 * handful (one per team and the finished ones), found by the reference index.
 */
export async function readPatientCarePlans(db: Queryable, patientId: string): Promise<string[]> {
  const { rows } = await db.query<{ content: string }>({
    name: 'patient-careplans',
    text: `SELECT r.content FROM sp_reference x
             JOIN resource r ON r.resource_type = x.resource_type AND r.id = x.id
            WHERE x.resource_type = 'CarePlan' AND x.code = 'subject' AND x.target_type = 'Patient'
              AND x.target_id = $1 AND NOT r.deleted`,
    values: [patientId],
  });
  return rows.map((r) => r.content);
}

/** Serialises writes of one person's care plans until the transaction ends (two at once cannot both be the one). */
export async function lockPatientCarePlans(db: Queryable, patientId: string): Promise<void> {
  await db.query({
    name: 'lock-patient-careplans',
    text: `SELECT pg_advisory_xact_lock(hashtextextended('living-careplan:' || $1, 0))`,
    values: [patientId],
  });
}
