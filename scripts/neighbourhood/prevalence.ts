/**
 * How common each long-term condition and frailty deficit is, by age band
 * (0-17, 18-39, 40-64, 65-74, 75-84, 85+), as a share of people. Round
 * figures in line with England's QOF registers (2022/23: hypertension ~14%,
 * diabetes ~7.5%, asthma ~6.5%, COPD ~2%, CHD ~3%, AF ~2%, heart failure ~1%,
 * stroke/TIA ~2%, CKD ~4% of adults, dementia ~0.7%, depression ~13% of
 * adults, SMI ~1%, cancer ~3.5%) and the age gradient of the eFI deficits
 * (Clegg et al. 2016); keys are population/codes.ts deficit keys or its other
 * long-term condition groups. Each person's chances are also scaled by the
 * deprivation of their area and by a personal propensity, so conditions
 * cluster in the same people, as multimorbidity does.
 */
type ByAge = readonly [number, number, number, number, number, number];

export const AGE_BAND_STARTS = [0, 18, 40, 65, 75, 85] as const;
export const ageBand = (age: number) => AGE_BAND_STARTS.filter((start) => age >= start).length - 1;

/** Deficits recorded as Conditions (and one recorded as an Observation each for three), by key. */
export const DEFICIT_PREVALENCE: Readonly<Record<string, ByAge>> = {
  'activity-limitation': [0, 0.002, 0.01, 0.04, 0.1, 0.25],
  anaemia: [0.01, 0.02, 0.03, 0.06, 0.1, 0.15],
  arthritis: [0.002, 0.02, 0.12, 0.25, 0.32, 0.38],
  'atrial-fibrillation': [0, 0.001, 0.01, 0.06, 0.12, 0.18],
  'cerebrovascular-disease': [0, 0.002, 0.01, 0.04, 0.08, 0.11],
  'chronic-kidney-disease': [0, 0.002, 0.02, 0.1, 0.2, 0.32],
  diabetes: [0.002, 0.015, 0.08, 0.16, 0.19, 0.17],
  dizziness: [0.002, 0.01, 0.02, 0.04, 0.06, 0.08],
  dyspnoea: [0.002, 0.005, 0.02, 0.05, 0.08, 0.12],
  falls: [0.002, 0.003, 0.01, 0.05, 0.1, 0.18],
  'foot-problems': [0.005, 0.01, 0.03, 0.06, 0.09, 0.12],
  'fragility-fracture': [0, 0.001, 0.005, 0.02, 0.05, 0.09],
  'hearing-impairment': [0.005, 0.01, 0.04, 0.1, 0.2, 0.3],
  'heart-failure': [0, 0.001, 0.006, 0.03, 0.07, 0.12],
  'heart-valve-disease': [0, 0.001, 0.005, 0.02, 0.04, 0.06],
  housebound: [0, 0.001, 0.003, 0.015, 0.05, 0.15],
  hypertension: [0.001, 0.03, 0.2, 0.45, 0.56, 0.62],
  'hypotension-syncope': [0.002, 0.005, 0.01, 0.02, 0.05, 0.08],
  'ischaemic-heart-disease': [0, 0.002, 0.03, 0.1, 0.16, 0.2],
  'memory-cognitive-problems': [0, 0, 0.002, 0.02, 0.07, 0.2],
  'mobility-transfer-problems': [0, 0.002, 0.01, 0.04, 0.1, 0.25],
  osteoporosis: [0, 0.002, 0.02, 0.07, 0.13, 0.2],
  'parkinsonism-tremor': [0, 0, 0.002, 0.01, 0.02, 0.03],
  'peptic-ulcer': [0, 0.003, 0.01, 0.02, 0.03, 0.04],
  'peripheral-vascular-disease': [0, 0.001, 0.006, 0.02, 0.035, 0.05],
  'requirement-for-care': [0, 0.002, 0.005, 0.02, 0.06, 0.2],
  'respiratory-disease': [0.09, 0.08, 0.1, 0.15, 0.17, 0.16],
  'skin-ulcer': [0, 0.001, 0.003, 0.01, 0.03, 0.06],
  'sleep-disturbance': [0.005, 0.03, 0.05, 0.06, 0.07, 0.08],
  'thyroid-disease': [0.002, 0.015, 0.04, 0.07, 0.08, 0.09],
  'urinary-incontinence': [0.005, 0.01, 0.03, 0.06, 0.1, 0.16],
  'urinary-system-disease': [0.002, 0.005, 0.015, 0.04, 0.07, 0.09],
  'visual-impairment': [0.002, 0.005, 0.01, 0.04, 0.08, 0.16],
  'weight-loss-anorexia': [0.002, 0.003, 0.005, 0.01, 0.03, 0.06],
};

/** Other long-term conditions, by their display in population/codes.ts OTHER_LONG_TERM_CONDITIONS. */
export const LTC_PREVALENCE: Readonly<Record<string, ByAge>> = {
  'Depressive disorder': [0.005, 0.1, 0.12, 0.1, 0.09, 0.09],
  Schizophrenia: [0, 0.004, 0.005, 0.004, 0.003, 0.002],
  'Bipolar disorder': [0, 0.004, 0.005, 0.004, 0.003, 0.002],
  'Malignant neoplastic disease': [0.001, 0.005, 0.03, 0.07, 0.09, 0.1],
  'Disorder of liver': [0, 0.003, 0.01, 0.015, 0.015, 0.01],
  Epilepsy: [0.005, 0.008, 0.008, 0.008, 0.008, 0.007],
  'Intellectual disability (learning disability)': [0.007, 0.006, 0.005, 0.003, 0.002, 0.001],
};

/**
 * Scale of every chance by deprivation decile: 1.32 in the most deprived
 * tenth of areas to 0.68 in the least (the gap in healthy life expectancy in
 * England is close to two decades: long-term conditions arrive earlier).
 */
export const deprivationFactor = (decile: number) => 1 + 0.07 * (5.5 - decile);

/** Chance of each social factor (by its display in population/codes.ts SOCIAL_FACTORS) at this age and decile. */
export function socialChances(age: number, decile: number): Readonly<Record<string, number>> {
  const dep = deprivationFactor(decile);
  const adult = age >= 18;
  const working = age >= 18 && age < 67;
  return {
    'Housing unsatisfactory': adult ? 0.025 * dep * dep : 0,
    Homeless: adult ? 0.002 * dep * dep * dep : 0,
    'Lives alone': age >= 75 ? 0.4 : age >= 65 ? 0.28 : adult ? 0.1 : 0,
    'Social isolation': age >= 75 ? 0.1 * dep : adult ? 0.03 * dep : 0,
    Unemployed: working ? 0.035 * dep * dep : 0,
  };
}
