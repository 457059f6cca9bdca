/**
 * What stratification reads of one person, from their records (pure: the
 * resources in, the evidence out): the deficits they have and which records
 * show them, their long-term condition groups, emergency care in the last
 * 12 months, social factors, deprivation decile, age and the concepts the
 * segments read. Only current, active records count (see isActive).
 */
import type { CodeableConcept, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import {
  ACT_PRIORITY_SYSTEM,
  ADMISSION_CLASS,
  AE_ATTENDANCE_CLASS,
  DEPRIVATION_DECILE_EXTENSION,
  EFI_DEFICITS,
  EMERGENCY_PRIORITY,
  LONG_TERM_CONDITION_DEFICITS,
  OTHER_LONG_TERM_CONDITIONS,
  POLYPHARMACY_THRESHOLD,
  SEGMENT_CONCEPTS,
  SNOMED,
  SOCIAL_FACTORS,
} from './codes.ts';
import type { EvidenceFilter } from '../store/stratify.ts';

export interface PersonEvidence {
  patientId: string;
  /** Deficit key -> the records showing it (Type/id), polypharmacy's the medications. */
  deficits: Map<string, string[]>;
  /** Distinct long-term condition groups (a deficit key, or an OTHER_LONG_TERM_CONDITIONS group). */
  conditionGroups: Set<string>;
  emergencyAdmissions: string[];
  aeAttendances: string[];
  /** Social factor key -> the records showing it. */
  social: Map<string, string[]>;
  /** IMD decile of the home address (1 = most deprived), when recorded. */
  deprivationDecile?: number;
  /** Whole years of age at `now`, when the birth date is known. */
  ageYears?: number;
  /** Segment concepts present (SEGMENT_CONCEPTS keys). */
  concepts: Set<keyof typeof SEGMENT_CONCEPTS>;
  activeMedications: number;
}

const DAY_MS = 86_400_000;
/** Emergency care counts when it started within this many days before now. */
export const LOOKBACK_DAYS = 365;

const BY_CODE = new Map<string, { deficit?: string; recordedAs?: string; group?: string }[]>();
function index(code: string, entry: { deficit?: string; recordedAs?: string; group?: string }): void {
  BY_CODE.set(code, [...(BY_CODE.get(code) ?? []), entry]);
}
for (const d of EFI_DEFICITS) for (const c of d.codes) index(c, { deficit: d.key, recordedAs: d.recordedAs });
for (const c of OTHER_LONG_TERM_CONDITIONS) index(c.code, { group: c.group });
const SOCIAL_BY_CODE = new Map(SOCIAL_FACTORS.map((f) => [f.code, f.key]));
const CONCEPT_BY_CODE = new Map<string, keyof typeof SEGMENT_CONCEPTS>();
for (const [key, codes] of Object.entries(SEGMENT_CONCEPTS)) {
  for (const c of codes) CONCEPT_BY_CODE.set(c, key as keyof typeof SEGMENT_CONCEPTS);
}

/**
 * Which Encounters and Observations can be evidence (everything personEvidence reads them for): emergency care
 * classes, and the SNOMED codes of deficits, social factors and segment concepts (as code or value). Others
 * (routine consultations, measurements) are not read at all: a superset check in SQL, the rules here decide.
 */
export const EVIDENCE_FILTER: EvidenceFilter = {
  encounterClasses: [AE_ATTENDANCE_CLASS, ADMISSION_CLASS],
  observationSystem: SNOMED,
  observationCodes: [...new Set([...BY_CODE.keys(), ...SOCIAL_BY_CODE.keys(), ...CONCEPT_BY_CODE.keys()])].sort(),
};

function snomedCodes(...concepts: (CodeableConcept | undefined)[]): string[] {
  return concepts.flatMap((c) => (c?.coding ?? []).filter((x) => x.system === SNOMED && x.code).map((x) => x.code!));
}

const code = (c: CodeableConcept | undefined) => c?.coding?.[0]?.code;

/** Whether a record counts: not entered in error, refuted, cancelled, resolved or stopped. */
export function isActive(resource: Resource): boolean {
  switch (resource.resourceType) {
    case 'Condition': {
      const clinical = code(resource.clinicalStatus);
      const verification = code(resource.verificationStatus);
      if (verification === 'entered-in-error' || verification === 'refuted') return false;
      return !clinical || ['active', 'recurrence', 'relapse'].includes(clinical);
    }
    case 'Observation':
      return !['entered-in-error', 'cancelled'].includes(resource.status);
    case 'MedicationStatement':
      return resource.status === 'active';
    case 'MedicationRequest':
      return resource.status === 'active';
    case 'Encounter':
      return !['cancelled', 'entered-in-error', 'planned'].includes(resource.status);
    default:
      return true;
  }
}

function add<K>(map: Map<K, string[]>, key: K, ref: string): void {
  const refs = map.get(key) ?? [];
  if (!refs.includes(ref)) refs.push(ref);
  map.set(key, refs);
}

/** A medication's identity for counting distinct ones: its first coding, reference or text. */
function medicationKey(r: Resource): string | undefined {
  const m = r as { medicationCodeableConcept?: CodeableConcept; medicationReference?: { reference?: string } };
  const coding = m.medicationCodeableConcept?.coding?.[0];
  if (coding?.code) return `${coding.system ?? ''}|${coding.code}`;
  return m.medicationReference?.reference ?? m.medicationCodeableConcept?.text ?? undefined;
}

function encounterStart(e: Encounter): number | undefined {
  const t = Date.parse(e.period?.start ?? e.period?.end ?? '');
  return Number.isNaN(t) ? undefined : t;
}

function ageAt(birthDate: string | undefined, now: Date): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(birthDate ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1)];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age--;
  return age;
}

/** The evidence of one person from their Patient and their current records of the types stratification reads. */
export function personEvidence(patient: Patient, records: readonly Resource[], now: Date): PersonEvidence {
  const evidence: PersonEvidence = {
    patientId: patient.id!,
    deficits: new Map(),
    conditionGroups: new Set(),
    emergencyAdmissions: [],
    aeAttendances: [],
    social: new Map(),
    concepts: new Set(),
    activeMedications: 0,
    ageYears: ageAt(patient.birthDate, now),
  };
  const home = patient.address?.find((a) => a.use === 'home') ?? patient.address?.[0];
  const decile = home?.extension?.find((x) => x.url === DEPRIVATION_DECILE_EXTENSION)?.valueInteger;
  if (decile !== undefined) evidence.deprivationDecile = decile;
  const medications = new Map<string, string>();
  const since = now.getTime() - LOOKBACK_DAYS * DAY_MS;
  const sorted = [...records].sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0));
  for (const r of sorted) {
    if (!isActive(r)) continue;
    const ref = `${r.resourceType}/${r.id}`;
    if (r.resourceType === 'Condition' || r.resourceType === 'Observation') {
      const concepts =
        r.resourceType === 'Condition' ? snomedCodes(r.code) : snomedCodes(r.code, r.valueCodeableConcept);
      for (const c of concepts) {
        for (const hit of BY_CODE.get(c) ?? []) {
          if (hit.deficit && (hit.recordedAs === r.resourceType || r.resourceType === 'Condition')) {
            add(evidence.deficits, hit.deficit, ref);
            if (LONG_TERM_CONDITION_DEFICITS.has(hit.deficit)) evidence.conditionGroups.add(hit.deficit);
          }
          if (hit.group && r.resourceType === 'Condition') evidence.conditionGroups.add(hit.group);
        }
        const social = SOCIAL_BY_CODE.get(c);
        if (social && r.resourceType === 'Observation') add(evidence.social, social, ref);
        const concept = CONCEPT_BY_CODE.get(c);
        if (concept) evidence.concepts.add(concept);
      }
    } else if (r.resourceType === 'MedicationStatement' || r.resourceType === 'MedicationRequest') {
      const key = medicationKey(r);
      if (key && !medications.has(key)) medications.set(key, ref);
    } else if (r.resourceType === 'Encounter') {
      const start = encounterStart(r);
      if (start === undefined || start < since || start > now.getTime()) continue;
      if (r.class?.code === AE_ATTENDANCE_CLASS) evidence.aeAttendances.push(ref);
      const emergency = r.priority?.coding?.some(
        (c) => c.system === ACT_PRIORITY_SYSTEM && c.code === EMERGENCY_PRIORITY,
      );
      if (r.class?.code === ADMISSION_CLASS && emergency) evidence.emergencyAdmissions.push(ref);
    }
  }
  evidence.activeMedications = medications.size;
  if (medications.size >= POLYPHARMACY_THRESHOLD) evidence.deficits.set('polypharmacy', [...medications.values()]);
  return evidence;
}
