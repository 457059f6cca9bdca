/**
 * One person: who they are (age, sex, ethnicity, address and its deprivation
 * decile, NHS number), their long-term conditions and frailty deficits,
 * medicines, social factors, and A&E attendances and emergency admissions in
 * the two years before the as-of date. Pure: person i of a seed is always the
 * same person.
 */
import {
  EFI_DEFICITS,
  OTHER_LONG_TERM_CONDITIONS,
  POLYPHARMACY_THRESHOLD,
  SOCIAL_FACTORS,
} from '../../server/src/population/codes.ts';
import { ageAndSex, ethnicity, type Sex } from './demographics.ts';
import type { Sector } from './geography.ts';
import { postcodeIn, streetAddress } from './geography.ts';
import { medicinesFor, type Medicine } from './medications.ts';
import { personName } from './names.ts';
import { nhsNumber } from './nhs-number.ts';
import { ageBand, DEFICIT_PREVALENCE, deprivationFactor, LTC_PREVALENCE, socialChances } from './prevalence.ts';
import { chance, normal, pick, poisson, rng, STREAM, type Rng } from './random.ts';

export interface Diagnosis {
  /** eFI deficit key, or the other long-term condition's group. */
  key: string;
  code: string;
  text: string;
  /** Days before the as-of date it was first recorded. */
  onsetDays: number;
  recordedAs: 'Condition' | 'Observation';
}

export interface Person {
  index: number;
  id: string;
  nhsNumber: string;
  family: string;
  given: string;
  sex: Sex;
  age: number;
  birthDate: string;
  ethnicity: string;
  sector: Sector;
  sectorIndex: number;
  postcode: string;
  street: string;
  diagnoses: Diagnosis[];
  /** SNOMED social factor concepts recorded (codes.ts SOCIAL_FACTORS). */
  social: string[];
  medicines: Medicine[];
  /** A&E attendances: days before the as-of date. */
  attendances: number[];
  /** Emergency admissions: days before the as-of date and length of stay in days. */
  admissions: { daysAgo: number; stay: number }[];
  /** eFI deficits met (distinct keys, polypharmacy and social vulnerability included). */
  deficits: string[];
}

const DEFICITS = new Map(EFI_DEFICITS.map((d) => [d.key, d]));
const SOCIAL_VULNERABILITY = DEFICITS.get('social-vulnerability')!;
const YEAR = 365.25;
/**
 * The listed prevalences undercount deficits (the eFI counts ~2,000 codes per
 * deficit, symptoms as well as diagnoses): 1.6 brings the share of people
 * aged 65+ in each eFI band near Clegg et al.'s (about half fit, a third mild,
 * an eighth moderate, a few per cent severe).
 */
const DEFICIT_CALIBRATION = 1.6;

export function makePerson(seed: number, prefix: string, i: number, asOf: number, sectors: readonly Sector[]): Person {
  const r = rng(seed, STREAM.person, i);
  const { age, sex } = ageAndSex(r);
  const sectorIndex = Math.floor(r() * sectors.length);
  const sector = sectors[sectorIndex];
  const ethnic = ethnicity(r, sector.diversity, age);
  const { family, given } = personName(r, ethnic, sex);
  const birth = new Date(asOf - (age + r()) * YEAR * 86_400_000);
  const clinical = rng(seed, STREAM.clinical, i);
  const diagnoses = diagnose(clinical, age, sector.decile);
  const social = socialFactors(clinical, age, sector.decile);
  const medicines = medicinesFor(
    clinical,
    diagnoses.map((d) => d.key),
    age,
  );
  const deficits = new Set(diagnoses.filter((d) => DEFICITS.has(d.key)).map((d) => d.key));
  if (medicines.length >= POLYPHARMACY_THRESHOLD) deficits.add('polypharmacy');
  if (social.some((code) => SOCIAL_VULNERABILITY.codes.includes(code))) deficits.add('social-vulnerability');
  const { attendances, admissions } = emergencyCare(rng(seed, STREAM.emergency, i), age, sector.decile, deficits.size);
  return {
    index: i,
    id: `${prefix}-p${i}`,
    nhsNumber: nhsNumber(seed, i),
    family,
    given,
    sex,
    age,
    birthDate: birth.toISOString().slice(0, 10),
    ethnicity: ethnic,
    sector,
    sectorIndex,
    postcode: postcodeIn(r, sector),
    street: streetAddress(r),
    diagnoses,
    social,
    medicines,
    attendances,
    admissions,
    deficits: [...deficits],
  };
}

/**
 * Conditions and deficits: each with its age-band chance times the area's
 * deprivation factor times a personal propensity (log-normal, shared by all
 * of one person's conditions, so they cluster).
 */
function diagnose(r: Rng, age: number, decile: number): Diagnosis[] {
  const band = ageBand(age);
  const propensity = Math.exp(0.5 * normal(r) - 0.125);
  const scale = deprivationFactor(decile) * propensity;
  const onset = () => Math.round(30 + r() * Math.min(age * YEAR, 15 * YEAR));
  const found: Diagnosis[] = [];
  for (const deficit of EFI_DEFICITS) {
    const p = DEFICIT_PREVALENCE[deficit.key]?.[band];
    if (!p || deficit.recordedAs === 'medications' || !chance(r, Math.min(0.9, p * scale * DEFICIT_CALIBRATION)))
      continue;
    found.push({
      key: deficit.key,
      code: pick(r, deficit.codes),
      text: deficit.display,
      onsetDays: onset(),
      recordedAs: deficit.recordedAs === 'Observation' ? 'Observation' : 'Condition',
    });
  }
  for (const ltc of OTHER_LONG_TERM_CONDITIONS) {
    const p = LTC_PREVALENCE[ltc.display]?.[band];
    if (!p || !chance(r, Math.min(0.9, p * scale))) continue;
    found.push({ key: ltc.group, code: ltc.code, text: ltc.display, onsetDays: onset(), recordedAs: 'Condition' });
  }
  return found;
}

function socialFactors(r: Rng, age: number, decile: number): string[] {
  const chances = socialChances(age, decile);
  return SOCIAL_FACTORS.filter((factor) => chance(r, chances[factor.display] ?? 0)).map((factor) => factor.code);
}

/** Yearly rates by age band (England HES 2022/23, rounded: ~0.4 A&E attendances, ~0.1 emergency admissions a person). */
const AE_RATE = [0.38, 0.33, 0.26, 0.3, 0.42, 0.62];
const ADMISSION_RATE = [0.03, 0.035, 0.05, 0.1, 0.17, 0.3];

/**
 * Attendances and admissions over two years: Poisson counts whose means rise
 * with age, deprivation and frailty (each deficit adds 12%). Most emergency
 * admissions come through A&E: each has a 70% chance of an attendance the
 * same day.
 */
function emergencyCare(r: Rng, age: number, decile: number, deficits: number) {
  const band = ageBand(age);
  const scale = deprivationFactor(decile) * (1 + 0.12 * deficits);
  const attendances: number[] = [];
  const admissions: { daysAgo: number; stay: number }[] = [];
  for (let k = Math.min(6, poisson(r, 2 * ADMISSION_RATE[band] * scale)); k > 0; k--) {
    const daysAgo = Math.round((1 + r() * 728) * 100) / 100;
    admissions.push({ daysAgo, stay: 1 + Math.floor(r() * r() * 14) });
    if (chance(r, 0.7)) attendances.push(daysAgo + 0.2);
  }
  for (let k = Math.min(8, poisson(r, 2 * AE_RATE[band] * scale * 0.8)); k > 0; k--) {
    attendances.push(Math.round((1 + r() * 728) * 100) / 100);
  }
  return {
    attendances: attendances.sort((a, b) => b - a),
    admissions: admissions.sort((a, b) => b.daysAgo - a.daysAgo),
  };
}
