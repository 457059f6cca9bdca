/**
 * Stratifies a batch of people: their evidence read in one statement
 * (store/stratify.ts; only Encounters and Observations that can count:
 * evidence.ts EVIDENCE_FILTER), then per person (pure) the eFI, the risk score with
 * its reasons and the segment. People who have died or whose record is
 * inactive are left out (they are stratified no more).
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/resources.ts';
import { evidenceRows, type StoredRow } from '../store/stratify.ts';
import { EVIDENCE_FILTER, personEvidence, type PersonEvidence } from './evidence.ts';
import type { EfiCutPoints } from './frailty.ts';
import { assessRisk, type RiskResult } from './risk-model.ts';
import { segmentOf, type Segment } from './segments.ts';

/** The types stratification reads (and whose writes re-stratify a person). */
export const EVIDENCE_TYPES = ['Condition', 'Observation', 'Encounter', 'MedicationStatement', 'MedicationRequest'];

export interface Assessed {
  evidence: PersonEvidence;
  result: RiskResult;
  segment: Segment;
}

/** Whether a Patient is stratified: not deceased and not marked inactive. */
export function stratified(patient: Patient): boolean {
  return patient.active !== false && !patient.deceasedBoolean && !patient.deceasedDateTime;
}

export async function assessBatch(
  db: Queryable,
  patients: StoredRow[],
  now: Date,
  cuts: EfiCutPoints,
): Promise<Assessed[]> {
  const people = patients.map((p) => JSON.parse(p.content) as Patient).filter(stratified);
  if (!people.length) return [];
  const records = new Map<string, Resource[]>(people.map((p) => [p.id!, []]));
  for (const row of await evidenceRows(db, [...records.keys()], EVIDENCE_TYPES, EVIDENCE_FILTER)) {
    records.get(row.patientId)?.push(JSON.parse(row.content) as Resource);
  }
  return people.map((patient) => {
    const evidence = personEvidence(patient, records.get(patient.id!)!, now);
    const result = assessRisk(evidence, cuts);
    return { evidence, result, segment: segmentOf(evidence, result.band) };
  });
}
