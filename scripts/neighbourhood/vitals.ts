/**
 * Routine measurements of a long-term condition review in the last year, as
 * GP systems hold them: blood pressure (people with hypertension, diabetes,
 * kidney or cardiovascular disease), HbA1c (diabetes), BMI and smoking status
 * (most adults). LOINC codes, UCUM units; values plausible for the condition.
 */
import { SNOMED } from '../../server/src/population/codes.ts';
import { coding, concept, dateBefore, type GeneratedResource } from './fhir.ts';
import type { Person } from './person.ts';
import { chance, normal, rng, STREAM, weighted } from './random.ts';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const BP_REVIEWED = new Set([
  'hypertension',
  'diabetes',
  'chronic-kidney-disease',
  'ischaemic-heart-disease',
  'heart-failure',
  'cerebrovascular-disease',
  'atrial-fibrillation',
]);
const SMOKING: readonly (readonly [readonly [string, string], number])[] = [
  [['266919005', 'Never smoked tobacco'], 55],
  [['8517006', 'Ex-smoker'], 32],
  [['77176002', 'Smoker'], 13],
];

export function vitalResources(seed: number, person: Person, asOf: number): GeneratedResource[] {
  if (person.age < 18) return [];
  const r = rng(seed, STREAM.vitals, person.index);
  const keys = new Set(person.diagnoses.map((d) => d.key));
  const subject = { reference: `Patient/${person.id}` };
  const out: GeneratedResource[] = [];
  const quantity = (value: number, unit: string, code = unit) => ({ value, unit, system: UCUM, code });
  const observation = (k: string, category: string, code: object, value: object, days: number) =>
    out.push({
      resourceType: 'Observation',
      id: `${person.id}-${k}`,
      status: 'final',
      category: [concept(CATEGORY, category)],
      code,
      subject,
      effectiveDateTime: dateBefore(asOf, days),
      ...value,
    });
  const day = () => 7 + Math.floor(r() * 350);
  if ([...keys].some((k) => BP_REVIEWED.has(k))) {
    const systolic = Math.round(132 + 14 * normal(r) + (keys.has('hypertension') ? 6 : 0));
    const diastolic = Math.round(78 + 9 * normal(r));
    const component = (code: string, display: string, value: number) => ({
      code: { coding: [coding(LOINC, code, display)] },
      valueQuantity: quantity(value, 'mm[Hg]'),
    });
    observation(
      'bp',
      'vital-signs',
      { coding: [coding(LOINC, '85354-9', 'Blood pressure panel with all children optional')], text: 'Blood pressure' },
      {
        component: [
          component('8480-6', 'Systolic blood pressure', systolic),
          component('8462-4', 'Diastolic blood pressure', diastolic),
        ],
      },
      day(),
    );
  }
  if (keys.has('diabetes')) {
    const hba1c = Math.max(38, Math.round(56 + 12 * normal(r)));
    observation(
      'hba1c',
      'laboratory',
      {
        coding: [coding(LOINC, '59261-8', 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol')],
        text: 'HbA1c',
      },
      { valueQuantity: quantity(hba1c, 'mmol/mol') },
      day(),
    );
  }
  if (chance(r, person.age >= 40 ? 0.7 : 0.4)) {
    const bmi = Math.round(Math.max(16, 27.5 + 5 * normal(r)) * 10) / 10;
    observation(
      'bmi',
      'vital-signs',
      { coding: [coding(LOINC, '39156-5', 'Body mass index (BMI) [Ratio]')], text: 'BMI' },
      { valueQuantity: quantity(bmi, 'kg/m2') },
      day(),
    );
  }
  if (chance(r, 0.75)) {
    const [code, display] = weighted(r, SMOKING);
    observation(
      'smoking',
      'social-history',
      { coding: [coding(LOINC, '72166-2', 'Tobacco smoking status')], text: 'Smoking status' },
      { valueCodeableConcept: concept(SNOMED, code, display) },
      day() + 200,
    );
  }
  return out;
}
