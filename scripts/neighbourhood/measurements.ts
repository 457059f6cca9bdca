/**
 * What is measured at a person's GP consultations (consultations.ts), as
 * Observations tied to the Encounter: blood pressure (LOINC 85354-9 panel,
 * systolic 8480-6 and diastolic 8462-4 components), body weight (29463-7)
 * with BMI (39156-5), smoking status (72166-2, SNOMED value), and laboratory
 * results: HbA1c (59261-8, mmol/mol) for people with diabetes, eGFR (62238-1,
 * CKD-EPI) for chronic kidney disease, total cholesterol (14647-2, mmol/L)
 * for cardiovascular disease, diabetes and health checks. UCUM units;
 * categories vital-signs, social-history and laboratory. Values follow a
 * personal baseline (height by sex; BMI, blood pressure rising with age and
 * hypertension; HbA1c, eGFR and cholesterol fitting the condition) with
 * visit-to-visit variation. No code here is an eFI deficit, social factor
 * or segment concept (codes.ts): measurements never change $stratify.
 */
import { SNOMED } from '../../server/src/population/codes.ts';
import type { Consultation } from './consultations.ts';
import { coding, concept, DAY_MS, ref, type GeneratedResource } from './fhir.ts';
import type { Person } from './person.ts';
import { chance, normal, rng, STREAM, weighted, type Rng } from './random.ts';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CARDIOVASCULAR = ['ischaemic-heart-disease', 'cerebrovascular-disease', 'peripheral-vascular-disease'];
const SMOKING: readonly (readonly [readonly [string, string], number])[] = [
  [['266919005', 'Never smoked tobacco'], 55],
  [['8517006', 'Ex-smoker'], 32],
  [['77176002', 'Smoker'], 13],
];

const quantity = (value: number, unit: string, code = unit) => ({ value, unit, system: UCUM, code });
const round = (x: number, places = 0) => Math.round(x * 10 ** places) / 10 ** places;

/** A person's baselines: what their measurements vary around. */
interface Baseline {
  height: number;
  bmi: number;
  systolic: number;
  diastolic: number;
  hba1c: number;
  egfr: number;
  cholesterol: number;
  smoking: readonly [string, string];
}

function baselineOf(r: Rng, person: Person, keys: Set<string>): Baseline {
  const hypertension = keys.has('hypertension');
  const statin = keys.has('diabetes') || CARDIOVASCULAR.some((k) => keys.has(k));
  return {
    height: person.sex === 'male' ? 175 + 7 * normal(r) : 162 + 6.5 * normal(r),
    bmi: Math.max(
      17,
      27.4 + 4.8 * normal(r) + (keys.has('diabetes') ? 2.5 : 0) - (keys.has('weight-loss-anorexia') ? 4 : 0),
    ),
    systolic: 112 + 0.45 * Math.max(0, person.age - 25) + (hypertension ? 10 : 0) + 11 * normal(r),
    diastolic: 74 + (hypertension ? 5 : 0) - (person.age >= 70 ? 4 : 0) + 7 * normal(r),
    hba1c: Math.max(44, 58 + 11 * normal(r)),
    egfr: Math.min(75, Math.max(18, 47 + 11 * normal(r))),
    cholesterol: statin ? 4.2 + 0.8 * normal(r) : 5.2 + 1 * normal(r),
    smoking: weighted(r, SMOKING),
  };
}

export function measurementResources(
  seed: number,
  person: Person,
  consultations: readonly Consultation[],
  asOf: number,
): GeneratedResource[] {
  if (person.age < 18) return [];
  const r = rng(seed, STREAM.vitals, person.index);
  const keys = new Set(person.diagnoses.filter((d) => d.recordedAs === 'Condition').map((d) => d.key));
  const base = baselineOf(r, person, keys);
  const subject = ref(`Patient/${person.id}`);
  const out: GeneratedResource[] = [];
  let smokingRecorded = false;
  for (const visit of consultations) {
    const at = new Date(visit.start).toISOString();
    const yearsAgo = (asOf - visit.start) / (365.25 * DAY_MS);
    const observe = (suffix: string, category: string, code: object, value: object) =>
      out.push({
        resourceType: 'Observation',
        id: `${visit.id}-${suffix}`,
        status: 'final',
        category: [concept(CATEGORY, category)],
        code,
        subject,
        encounter: ref(`Encounter/${visit.id}`),
        effectiveDateTime: at,
        performer: [ref(visit.clinician)],
        ...value,
      });
    const planned = visit.kind === 'review' || visit.kind === 'health-check';
    const bpChance = keys.has('hypertension') ? 0.45 : person.age >= 40 ? 0.2 : 0.08;
    if (planned || chance(r, bpChance)) {
      // A pulse pressure of at least 20 mmHg: systolic always well above diastolic.
      const systolic = round(Math.min(220, Math.max(92, base.systolic + 8 * normal(r))));
      const diastolic = round(Math.min(systolic - 20, Math.max(48, base.diastolic + 5 * normal(r))));
      const component = (code: string, display: string, value: number) => ({
        code: { coding: [coding(LOINC, code, display)] },
        valueQuantity: quantity(value, 'mm[Hg]'),
      });
      observe(
        'bp',
        'vital-signs',
        {
          coding: [coding(LOINC, '85354-9', 'Blood pressure panel with all children optional')],
          text: 'Blood pressure',
        },
        {
          component: [
            component('8480-6', 'Systolic blood pressure', systolic),
            component('8462-4', 'Diastolic blood pressure', diastolic),
          ],
        },
      );
    }
    if ((planned && chance(r, 0.85)) || chance(r, 0.08)) {
      const trend = keys.has('weight-loss-anorexia') ? 3 * yearsAgo : 0;
      const weight = round(Math.max(38, base.bmi * (base.height / 100) ** 2 + trend + 1.2 * normal(r)), 1);
      observe(
        'weight',
        'vital-signs',
        { coding: [coding(LOINC, '29463-7', 'Body weight')], text: 'Body weight' },
        { valueQuantity: quantity(weight, 'kg') },
      );
      observe(
        'bmi',
        'vital-signs',
        { coding: [coding(LOINC, '39156-5', 'Body mass index (BMI) [Ratio]')], text: 'BMI' },
        { valueQuantity: quantity(round(weight / (base.height / 100) ** 2, 1), 'kg/m2') },
      );
    }
    if (planned || (!smokingRecorded && chance(r, 0.35))) {
      smokingRecorded = true;
      observe(
        'smoking',
        'social-history',
        { coding: [coding(LOINC, '72166-2', 'Tobacco smoking status')], text: 'Smoking status' },
        { valueCodeableConcept: concept(SNOMED, base.smoking[0], base.smoking[1]) },
      );
    }
    if (keys.has('diabetes') && (visit.kind === 'review' || (visit.kind === 'follow-up' && chance(r, 0.5)))) {
      observe(
        'hba1c',
        'laboratory',
        {
          coding: [coding(LOINC, '59261-8', 'Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol')],
          text: 'HbA1c',
        },
        { valueQuantity: quantity(round(Math.max(38, base.hba1c + 5 * normal(r))), 'mmol/mol') },
      );
    }
    if (keys.has('chronic-kidney-disease') && (visit.kind === 'review' || chance(r, 0.1))) {
      // Kidney function falls about 1 a year in CKD stage 3.
      const egfr = round(Math.max(10, base.egfr + yearsAgo + 4 * normal(r)));
      observe(
        'egfr',
        'laboratory',
        {
          coding: [
            coding(
              LOINC,
              '62238-1',
              'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)',
            ),
          ],
          text: 'eGFR',
        },
        { valueQuantity: quantity(egfr, 'mL/min/1.73m2', 'mL/min/{1.73_m2}') },
      );
    }
    const lipids = keys.has('diabetes') || CARDIOVASCULAR.some((k) => keys.has(k));
    if ((visit.kind === 'review' && lipids) || visit.kind === 'health-check') {
      observe(
        'chol',
        'laboratory',
        {
          coding: [coding(LOINC, '14647-2', 'Cholesterol [Moles/volume] in Serum or Plasma')],
          text: 'Total cholesterol',
        },
        { valueQuantity: quantity(round(Math.max(2.2, base.cholesterol + 0.3 * normal(r)), 1), 'mmol/L') },
      );
    }
  }
  return out;
}
