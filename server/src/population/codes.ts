/**
 * The codes population health reads and the synthetic neighbourhood writes:
 * one contract, so the generator makes exactly what stratification counts.
 *
 * - Ethnicity: UK Core's ethnic category extension (NHS Data Dictionary
 *   letters, England).
 * - Deprivation: the Index of Multiple Deprivation decile (1 = most deprived
 *   tenth of areas in England, 10 = least) of the person's home address, as
 *   a Hearth extension on `Patient.address` (the decile belongs to the
 *   address's small area, not to the person).
 * - eFI deficits (Clegg et al. 2016, 36 deficits): each deficit is met by
 *   any of its SNOMED CT concepts on an active Condition (or, for
 *   activity limitation, housebound, requirement for care and social
 *   vulnerability, an Observation's `code` or `valueCodeableConcept`);
 *   polypharmacy is five or more active medications. The real eFI uses
 *   about 2,000 codes; this list carries one to three widely used concepts
 *   per deficit, enough for a synthetic neighbourhood and for a site to
 *   extend. Each concept was checked against published uses of its fully
 *   specified name (docs/population-stratify.md "Codes"); e.g. activity
 *   limitation is 160685001 |Bed-ridden|, requirement for care 160734000
 *   |Lives in a nursing home|, foot problems 202855006 |Hallux valgus|.
 * - Social factors (housing, isolation, employment) as SNOMED findings on
 *   Observations (category social-history).
 * - Emergency care as Encounters: A&E attendance `class` EMER, emergency
 *   admission `class` IMP with `priority` EM (v3 ActPriority).
 */
export const SNOMED = 'http://snomed.info/sct';

export const ETHNIC_CATEGORY_EXTENSION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory';
export const ETHNIC_CATEGORY_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland';

/** NHS Data Dictionary ETHNIC CATEGORY (England). */
export const ETHNIC_CATEGORIES: Readonly<Record<string, string>> = {
  A: 'White - British',
  B: 'White - Irish',
  C: 'White - Any other White background',
  D: 'Mixed - White and Black Caribbean',
  E: 'Mixed - White and Black African',
  F: 'Mixed - White and Asian',
  G: 'Mixed - Any other mixed background',
  H: 'Asian or Asian British - Indian',
  J: 'Asian or Asian British - Pakistani',
  K: 'Asian or Asian British - Bangladeshi',
  L: 'Asian or Asian British - Any other Asian background',
  M: 'Black or Black British - Caribbean',
  N: 'Black or Black British - African',
  P: 'Black or Black British - Any other Black background',
  R: 'Other Ethnic Groups - Chinese',
  S: 'Other Ethnic Groups - Any other ethnic group',
  Z: 'Not stated',
};

export const DEPRIVATION_DECILE_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/imd-decile';

export const ENCOUNTER_CLASS_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const ACT_PRIORITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActPriority';
/** A&E attendance: Encounter.class. */
export const AE_ATTENDANCE_CLASS = 'EMER';
/** Emergency admission: Encounter.class IMP with Encounter.priority EM. */
export const ADMISSION_CLASS = 'IMP';
export const EMERGENCY_PRIORITY = 'EM';

export interface Deficit {
  /** Stable key, used in reasons and in the generator. */
  readonly key: string;
  readonly display: string;
  /** SNOMED CT concepts; any one on an active record meets the deficit. */
  readonly codes: readonly string[];
  /** Where the concepts are recorded. */
  readonly recordedAs: 'Condition' | 'Observation' | 'medications';
}

const condition = (key: string, display: string, ...codes: string[]): Deficit => ({
  key,
  display,
  codes,
  recordedAs: 'Condition',
});

/** The 36 eFI deficits. */
export const EFI_DEFICITS: readonly Deficit[] = [
  { key: 'activity-limitation', display: 'Activity limitation', codes: ['160685001'], recordedAs: 'Observation' },
  condition('anaemia', 'Anaemia and haematinic deficiency', '271737000', '87522002'),
  condition('arthritis', 'Arthritis', '396275006', '69896004'),
  condition('atrial-fibrillation', 'Atrial fibrillation', '49436004'),
  condition('cerebrovascular-disease', 'Cerebrovascular disease', '62914000', '230690007', '266257000'),
  condition('chronic-kidney-disease', 'Chronic kidney disease', '709044004', '433144002'),
  condition('diabetes', 'Diabetes', '44054006', '46635009'),
  condition('dizziness', 'Dizziness', '404640003'),
  condition('dyspnoea', 'Dyspnoea', '267036007'),
  condition('falls', 'Falls', '161898004', '217082002'),
  condition('foot-problems', 'Foot problems', '202855006'),
  condition('fragility-fracture', 'Fragility fracture', '5913000', '443165006'),
  condition('hearing-impairment', 'Hearing impairment', '15188001'),
  condition('heart-failure', 'Heart failure', '84114007'),
  condition('heart-valve-disease', 'Heart valve disease', '368009'),
  { key: 'housebound', display: 'Housebound', codes: ['160689007'], recordedAs: 'Observation' },
  condition('hypertension', 'Hypertension', '38341003'),
  condition('hypotension-syncope', 'Hypotension / syncope', '45007003', '271594007'),
  condition('ischaemic-heart-disease', 'Ischaemic heart disease', '414545008', '22298006'),
  condition('memory-cognitive-problems', 'Memory and cognitive problems', '386807006', '52448006'),
  condition('mobility-transfer-problems', 'Mobility and transfer problems', '282145008', '719232003'),
  condition('osteoporosis', 'Osteoporosis', '64859006'),
  condition('parkinsonism-tremor', 'Parkinsonism and tremor', '49049000', '26079004'),
  condition('peptic-ulcer', 'Peptic ulcer', '13200003'),
  condition('peripheral-vascular-disease', 'Peripheral vascular disease', '400047006'),
  { key: 'polypharmacy', display: 'Polypharmacy (five or more medications)', codes: [], recordedAs: 'medications' },
  { key: 'requirement-for-care', display: 'Requirement for care', codes: ['160734000'], recordedAs: 'Observation' },
  condition('respiratory-disease', 'Respiratory disease', '13645005', '195967001'),
  condition('skin-ulcer', 'Skin ulcer', '399912005', '46742003'),
  condition('sleep-disturbance', 'Sleep disturbance', '193462001'),
  {
    key: 'social-vulnerability',
    display: 'Social vulnerability',
    codes: ['105529008', '422650009'],
    recordedAs: 'Observation',
  },
  condition('thyroid-disease', 'Thyroid disease', '14304000', '40930008'),
  condition('urinary-incontinence', 'Urinary incontinence', '165232002'),
  condition('urinary-system-disease', 'Urinary system disease', '68566005'),
  condition('visual-impairment', 'Visual impairment', '397540003'),
  condition('weight-loss-anorexia', 'Weight loss and anorexia', '89362005', '79890006'),
];

/** Active medications at or above which the polypharmacy deficit is met. */
export const POLYPHARMACY_THRESHOLD = 5;

export interface SocialFactor {
  readonly key: 'housing' | 'isolation' | 'employment';
  readonly code: string;
  readonly display: string;
}

/** Social factors recorded as Observations (category social-history, `code` or `valueCodeableConcept` the concept). */
export const SOCIAL_FACTORS: readonly SocialFactor[] = [
  { key: 'housing', code: '32911000', display: 'Homeless' },
  { key: 'housing', code: '105531004', display: 'Housing unsatisfactory' },
  { key: 'isolation', code: '422650009', display: 'Social isolation' },
  { key: 'isolation', code: '105529008', display: 'Lives alone' },
  { key: 'employment', code: '73438004', display: 'Unemployed' },
];

/** Long-term conditions beyond the deficits that multimorbidity and segmentation count. */
export const OTHER_LONG_TERM_CONDITIONS: readonly { code: string; display: string; group: string }[] = [
  { code: '35489007', display: 'Depressive disorder', group: 'mental-health' },
  { code: '58214004', display: 'Schizophrenia', group: 'serious-mental-illness' },
  { code: '13746004', display: 'Bipolar disorder', group: 'serious-mental-illness' },
  { code: '363346000', display: 'Malignant neoplastic disease', group: 'cancer' },
  { code: '235856003', display: 'Disorder of liver', group: 'liver-disease' },
  { code: '84757009', display: 'Epilepsy', group: 'epilepsy' },
  { code: '110359009', display: 'Intellectual disability (learning disability)', group: 'learning-disability' },
];

/** Frailty category concepts (STANDARDS §8.1) a GP system can consume. */
export const FRAILTY_CATEGORY_CODES = {
  mild: '925791000000100',
  moderate: '925831000000107',
  severe: '925861000000102',
} as const;
/** Electronic frailty index score (Observation.code). */
export const FRAILTY_INDEX_SCORE_CODE = '713636003';

/**
 * Deficits that are long-term conditions: with OTHER_LONG_TERM_CONDITIONS's
 * groups, the distinct groups multimorbidity counts (a deficit is its own group).
 */
export const LONG_TERM_CONDITION_DEFICITS: ReadonlySet<string> = new Set([
  'arthritis',
  'atrial-fibrillation',
  'cerebrovascular-disease',
  'chronic-kidney-disease',
  'diabetes',
  'heart-failure',
  'heart-valve-disease',
  'hypertension',
  'ischaemic-heart-disease',
  'memory-cognitive-problems',
  'osteoporosis',
  'parkinsonism-tremor',
  'peripheral-vascular-disease',
  'respiratory-disease',
  'thyroid-disease',
]);

/** Concepts the Bridges-to-Health segments read besides the deficits (Condition or Observation, active). */
export const SEGMENT_CONCEPTS = {
  /** 300936002 |Terminal illness (finding)|: failing health near the end of life. */
  endOfLife: ['300936002'],
  /** 52448006 |Dementia (disorder)|: long-term frailty whatever the eFI. */
  dementia: ['52448006'],
  /** 13645005 |Chronic obstructive lung disease (disorder)|: an organ system failure. */
  copd: ['13645005'],
  /** 77386006 |Pregnancy (finding)|: maternal and infant health. */
  pregnancy: ['77386006'],
} as const;
