/**
 * Allergies a GP record holds: about one person in ten has one recorded,
 * most often penicillin (about 6% of people in England's primary care
 * records; West et al. 2019), then aspirin, peanut, latex and grass pollen.
 * SNOMED CT allergy findings and reaction manifestations; AllergyIntolerance
 * is not read by $stratify.
 */
import { SNOMED } from '../../server/src/population/codes.ts';
import { coding, concept, dateBefore, ref, type GeneratedResource } from './fhir.ts';
import type { Person } from './person.ts';
import { chance, pick, rng, STREAM } from './random.ts';

const CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

interface Allergy {
  code: string;
  display: string;
  category: 'medication' | 'food' | 'environment';
  /** Chance by age: child (under 18), adult. */
  chance: readonly [number, number];
}

const ALLERGIES: readonly Allergy[] = [
  { code: '91936005', display: 'Allergy to penicillin', category: 'medication', chance: [0.02, 0.065] },
  { code: '293586001', display: 'Allergy to aspirin', category: 'medication', chance: [0, 0.006] },
  { code: '91935009', display: 'Allergy to peanuts', category: 'food', chance: [0.015, 0.006] },
  { code: '300916003', display: 'Latex allergy', category: 'environment', chance: [0.002, 0.004] },
  { code: '418689008', display: 'Allergy to grass pollen', category: 'environment', chance: [0.02, 0.015] },
];

const REACTIONS = [
  ['271807003', 'Eruption of skin'],
  ['126485001', 'Urticaria'],
  ['39579001', 'Anaphylaxis'],
] as const;

export function allergyResources(seed: number, person: Person, asOf: number): GeneratedResource[] {
  const r = rng(seed, STREAM.allergies, person.index);
  const adult = person.age >= 18 ? 1 : 0;
  return ALLERGIES.filter((a) => chance(r, a.chance[adult])).map((a, k) => {
    const [code, display] =
      a.category === 'environment' && chance(r, 0.7)
        ? REACTIONS[1]
        : pick(r, REACTIONS.slice(0, chance(r, 0.08) ? 3 : 2));
    const severe = code === '39579001';
    return {
      resourceType: 'AllergyIntolerance',
      id: `${person.id}-al${k}`,
      clinicalStatus: concept(CLINICAL, 'active'),
      verificationStatus: concept(VERIFICATION, 'confirmed'),
      type: 'allergy',
      category: [a.category],
      criticality: severe ? 'high' : 'low',
      code: { coding: [coding(SNOMED, a.code, a.display)], text: a.display },
      patient: ref(`Patient/${person.id}`),
      recordedDate: dateBefore(asOf, 30 + Math.floor(r() * Math.max(1, Math.min(person.age, 30) * 365))),
      reaction: [{ manifestation: [concept(SNOMED, code, display)], ...(severe ? { severity: 'severe' } : {}) }],
    };
  });
}
