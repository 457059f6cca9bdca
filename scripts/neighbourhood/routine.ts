/**
 * The routine record a GP system holds for a person: their practice
 * consultations as Encounters (consultations.ts: class AMB, the practice as
 * serviceProvider, the clinician as participant, a review's conditions as
 * its reasons), the measurements taken at them (measurements.ts),
 * vaccinations (immunizations.ts) and allergies (allergies.ts). Encounters
 * come first: the Observations refer to them.
 */
import { ENCOUNTER_CLASS_SYSTEM, SNOMED } from '../../server/src/population/codes.ts';
import { allergyResources } from './allergies.ts';
import { consultationsOf, REVIEWED, type Consultation, type ConsultationKind } from './consultations.ts';
import { coding, concept, ref, type GeneratedResource } from './fhir.ts';
import { immunizationResources } from './immunizations.ts';
import { measurementResources } from './measurements.ts';
import type { Person } from './person.ts';

/** A routine (ambulatory) encounter: not A&E (EMER) nor an admission (IMP), so never emergency care. */
export const ROUTINE_CLASS = 'AMB';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';

const TYPES: Record<ConsultationKind, readonly [string, string, string]> = {
  review: ['185349003', 'Encounter for check up', 'Long-term condition review'],
  'health-check': ['185349003', 'Encounter for check up', 'NHS Health Check'],
  problem: ['185347001', 'Encounter for problem', 'GP consultation'],
  'follow-up': ['390906007', 'Follow-up encounter', 'Follow-up consultation'],
};

export function routineResources(
  seed: number,
  person: Person,
  asOf: number,
  practice: { organization: string; gps: readonly string[] },
): GeneratedResource[] {
  const consultations = consultationsOf(seed, person, asOf, practice.gps);
  return [
    ...consultations.map((c) => encounter(person, c, practice.organization)),
    ...measurementResources(seed, person, consultations, asOf),
    ...immunizationResources(seed, person, asOf, practice.organization),
    ...allergyResources(seed, person, asOf),
  ];
}

/** The person's Conditions a long-term condition review is about (ids as record.ts numbers them). */
function reviewedConditions(person: Person): { reference: string }[] {
  const refs: { reference: string }[] = [];
  let c = 0;
  for (const d of person.diagnoses) {
    if (d.recordedAs !== 'Condition') continue;
    if (REVIEWED.has(d.key) && refs.length < 3) refs.push(ref(`Condition/${person.id}-c${c}`));
    c++;
  }
  return refs;
}

function encounter(person: Person, c: Consultation, practice: string): GeneratedResource {
  const [code, display, text] = TYPES[c.kind];
  const reasons = c.kind === 'review' ? reviewedConditions(person) : [];
  return {
    resourceType: 'Encounter',
    id: c.id,
    status: 'finished',
    class: coding(ENCOUNTER_CLASS_SYSTEM, ROUTINE_CLASS, 'ambulatory'),
    type: [{ coding: [coding(SNOMED, code, display)], text }],
    subject: ref(`Patient/${person.id}`),
    participant: [{ type: [concept(PARTICIPATION, 'PPRF', 'primary performer')], individual: ref(c.clinician) }],
    period: { start: new Date(c.start).toISOString(), end: new Date(c.start + c.minutes * 60_000).toISOString() },
    ...(reasons.length ? { reasonReference: reasons } : {}),
    serviceProvider: ref(practice),
  };
}
