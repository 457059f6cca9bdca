/**
 * Repeat medications (MedicationStatement, active), coded with SNOMED CT UK
 * drug extension / dm+d virtual medicinal product (VMP) concepts, prescribed
 * for the conditions a person has, so people with several long-term
 * conditions reach polypharmacy (five or more) as they do in practice.
 */
import { chance, pick, type Rng } from './random.ts';

export interface Medicine {
  code: string;
  display: string;
  dosage: string;
}

const MED = {
  amlodipine: { code: '319283006', display: 'Amlodipine 5mg tablets', dosage: 'One tablet once a day' },
  ramipril: { code: '318902004', display: 'Ramipril 5mg capsules', dosage: 'One capsule once a day' },
  lisinopril: { code: '318859000', display: 'Lisinopril 10mg tablets', dosage: 'One tablet once a day' },
  losartan: { code: '318956006', display: 'Losartan 50mg tablets', dosage: 'One tablet once a day' },
  atorvastatin: { code: '320029006', display: 'Atorvastatin 10mg tablets', dosage: 'One tablet at night' },
  simvastatin: { code: '320000009', display: 'Simvastatin 40mg tablets', dosage: 'One tablet at night' },
  metformin: { code: '325278007', display: 'Metformin 500mg tablets', dosage: 'One tablet twice a day with food' },
  bisoprolol: { code: '318590006', display: 'Bisoprolol 5mg tablets', dosage: 'One tablet once a day' },
  furosemide: { code: '317972000', display: 'Furosemide 40mg tablets', dosage: 'One tablet in the morning' },
  spironolactone: { code: '318056008', display: 'Spironolactone 25mg tablets', dosage: 'One tablet once a day' },
  levothyroxine: {
    code: '374296008',
    display: 'Levothyroxine sodium 100microgram tablets',
    dosage: 'One tablet in the morning',
  },
  salbutamol: {
    code: '39113611000001102',
    display: 'Salbutamol 100micrograms/dose inhaler CFC free',
    dosage: 'Two puffs when needed',
  },
  beclometasone: {
    code: '408063002',
    display: 'Beclometasone 100micrograms/dose inhaler CFC free',
    dosage: 'Two puffs twice a day',
  },
  paracetamol: {
    code: '322236009',
    display: 'Paracetamol 500mg tablets',
    dosage: 'Two tablets up to four times a day',
  },
} satisfies Record<string, Medicine>;

type Key = keyof typeof MED;

/** For each condition (deficit key or other LTC group): [medicine, chance it is prescribed]. */
const FOR_CONDITION: Readonly<Record<string, readonly (readonly [Key | Key[], number])[]>> = {
  hypertension: [
    ['amlodipine', 0.6],
    [['ramipril', 'lisinopril', 'losartan'], 0.5],
  ],
  diabetes: [
    ['metformin', 0.85],
    [['atorvastatin', 'simvastatin'], 0.7],
    ['ramipril', 0.2],
  ],
  'ischaemic-heart-disease': [
    ['atorvastatin', 0.8],
    ['bisoprolol', 0.55],
    ['ramipril', 0.4],
  ],
  'atrial-fibrillation': [['bisoprolol', 0.65]],
  'heart-failure': [
    ['furosemide', 0.8],
    ['bisoprolol', 0.65],
    [['ramipril', 'losartan'], 0.6],
    ['spironolactone', 0.4],
  ],
  'cerebrovascular-disease': [[['atorvastatin', 'simvastatin'], 0.8]],
  'peripheral-vascular-disease': [['atorvastatin', 0.6]],
  'chronic-kidney-disease': [['ramipril', 0.3]],
  'respiratory-disease': [
    ['salbutamol', 0.85],
    ['beclometasone', 0.5],
  ],
  'thyroid-disease': [['levothyroxine', 0.85]],
  arthritis: [['paracetamol', 0.55]],
  'fragility-fracture': [['paracetamol', 0.4]],
};

/** The person's active medicines (one each), from their conditions and age. */
export function medicinesFor(r: Rng, conditions: readonly string[], age: number): Medicine[] {
  const chosen = new Set<Key>();
  for (const condition of conditions) {
    for (const [option, p] of FOR_CONDITION[condition] ?? []) {
      if (chance(r, p)) chosen.add(Array.isArray(option) ? pick(r, option) : option);
    }
  }
  // Primary prevention statins and pain relief become common with age.
  if (age >= 40 && !chosen.has('atorvastatin') && !chosen.has('simvastatin') && chance(r, age >= 65 ? 0.2 : 0.06)) {
    chosen.add('atorvastatin');
  }
  if (age >= 75 && chance(r, 0.15)) chosen.add('paracetamol');
  return [...chosen].map((key) => MED[key]);
}
