/**
 * The synthetic neighbourhood generator (scripts/neighbourhood), pure: the
 * same seed gives the same bytes, NHS numbers pass Modulus 11 (STANDARDS.md
 * §2.3) and are unique in the 999 test range, every Patient carries the
 * deprivation decile and ethnic category extensions of population/codes.ts,
 * and the population's distributions are within sane bounds of England's.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ADMISSION_CLASS,
  AE_ATTENDANCE_CLASS,
  DEPRIVATION_DECILE_EXTENSION,
  EFI_DEFICITS,
  EMERGENCY_PRIORITY,
  ETHNIC_CATEGORIES,
  ETHNIC_CATEGORY_EXTENSION,
  OTHER_LONG_TERM_CONDITIONS,
  SOCIAL_FACTORS,
} from '../../server/src/population/codes.ts';
import { isValidNhsNumber, nhsCheckDigit } from '../../scripts/neighbourhood/nhs-number.ts';
import {
  personOf,
  personResources,
  planNeighbourhood,
  sharedResources,
  type Plan,
} from '../../scripts/neighbourhood/generator.ts';
import { DEFICIT_PREVALENCE, LTC_PREVALENCE, socialChances } from '../../scripts/neighbourhood/prevalence.ts';
import type { GeneratedResource } from '../../scripts/neighbourhood/fhir.ts';

const AS_OF = '2026-11-01';
// Generated JSON, read by path in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const plan = (seed: number, people: number, extra: Partial<Parameters<typeof planNeighbourhood>[0]> = {}) =>
  planNeighbourhood({ people, seed, asOf: AS_OF, ...extra });

function digest(p: Plan): string {
  const hash = createHash('sha256');
  for (const r of sharedResources(p)) hash.update(JSON.stringify(r));
  for (let i = 0; i < p.options.people; i++) for (const r of personResources(p, i)) hash.update(JSON.stringify(r));
  return hash.digest('hex');
}

describe('determinism', () => {
  it('gives byte-identical resources for the same seed, and different ones for another seed', () => {
    expect(digest(plan(7, 300))).toBe(digest(plan(7, 300)));
    expect(digest(plan(8, 300))).not.toBe(digest(plan(7, 300)));
  });

  it('makes person i the same whatever the size or order (streamed, resumable)', () => {
    const small = plan(3, 500);
    const large = plan(3, 40_000);
    expect(JSON.stringify(personResources(large, 123))).toBe(JSON.stringify(personResources(small, 123)));
    const forward = [10, 11, 12].map((i) => JSON.stringify(personResources(small, i)));
    const backward = [12, 11, 10].map((i) => JSON.stringify(personResources(small, i))).reverse();
    expect(backward).toEqual(forward);
  });

  it('splits a large footprint into neighbourhoods of at most 50,000 people with their own directory', () => {
    const footprint = plan(1, 250_000);
    expect(footprint.neighbourhoods.map((n) => n.count)).toEqual([50_000, 50_000, 50_000, 50_000, 50_000]);
    const ids = sharedResources(footprint).map((r) => `${r.resourceType}/${r.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(personOf(footprint, 249_999).id).toBe('nb-p249999');
  });
});

describe('NHS numbers', () => {
  it('checks Modulus 11 as STANDARDS.md §2.3 works it', () => {
    expect(isValidNhsNumber('9434765919')).toBe(true);
    expect(isValidNhsNumber('9000000009')).toBe(true);
    expect(isValidNhsNumber('1234567890')).toBe(false);
    expect(isValidNhsNumber('3478526985')).toBe(false);
    expect(nhsCheckDigit('123456789')).toBeUndefined();
  });

  it('gives every person a valid, unique number in the 999 test range', () => {
    const p = plan(5, 20_000);
    const numbers = Array.from({ length: 20_000 }, (_, i) => personOf(p, i).nhsNumber);
    expect(numbers.every((n) => n.startsWith('999') && isValidNhsNumber(n))).toBe(true);
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});

describe('the contract with population/codes.ts', () => {
  it('knows a prevalence for every deficit it records, every other long-term condition and every social factor', () => {
    const derived = new Set(['polypharmacy', 'social-vulnerability']);
    expect(EFI_DEFICITS.filter((d) => !derived.has(d.key) && !DEFICIT_PREVALENCE[d.key]).map((d) => d.key)).toEqual([]);
    expect(OTHER_LONG_TERM_CONDITIONS.filter((c) => !LTC_PREVALENCE[c.display]).map((c) => c.display)).toEqual([]);
    const chances = socialChances(40, 1);
    expect(SOCIAL_FACTORS.filter((f) => !(chances[f.display] > 0)).map((f) => f.display)).toEqual([]);
  });

  it('codes every Condition and deficit Observation with a concept of codes.ts, and emergency care as it says', () => {
    const p = plan(2, 2_000);
    const known = new Set([
      ...EFI_DEFICITS.flatMap((d) => d.codes),
      ...OTHER_LONG_TERM_CONDITIONS.map((c) => c.code),
      ...SOCIAL_FACTORS.map((f) => f.code),
    ]);
    let encounters = 0;
    for (let i = 0; i < 2_000; i++) {
      for (const r of personResources(p, i) as Record<string, Loose>[]) {
        if (r.resourceType === 'Condition') expect(known.has(r.code.coding[0].code)).toBe(true);
        if (r.resourceType === 'Observation' && r.code.coding[0].system === 'http://snomed.info/sct') {
          expect(known.has(r.code.coding[0].code)).toBe(true);
        }
        if (r.resourceType === 'Encounter') {
          encounters++;
          if (r.class.code === ADMISSION_CLASS) expect(r.priority.coding[0].code).toBe(EMERGENCY_PRIORITY);
          else if (r.class.code === 'AMB') expect(r.priority).toBeUndefined();
          else expect(r.class.code).toBe(AE_ATTENDANCE_CLASS);
        }
      }
    }
    expect(encounters).toBeGreaterThan(500);
  });
});

describe('distributions (5,000 people)', () => {
  const p = plan(11, 5_000);
  const people = Array.from({ length: 5_000 }, (_, i) => personOf(p, i));
  const patients = people.map((_, i) => personResources(p, i)[0] as GeneratedResource & Record<string, Loose>);
  const share = (f: (x: (typeof people)[number]) => boolean, of = people) => of.filter(f).length / of.length;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

  it('gives every Patient a deprivation decile (1-10) on the home address and an ethnic category', () => {
    for (const patient of patients) {
      const decile = patient.address[0].extension.find((e: Loose) => e.url === DEPRIVATION_DECILE_EXTENSION);
      expect(decile.valueInteger).toBeGreaterThanOrEqual(1);
      expect(decile.valueInteger).toBeLessThanOrEqual(10);
      const ethnic = patient.extension.find((e: Loose) => e.url === ETHNIC_CATEGORY_EXTENSION);
      expect(ETHNIC_CATEGORIES[ethnic.valueCodeableConcept.coding[0].code]).toBeDefined();
      expect(patient.address[0].postalCode).toMatch(/^RV[0-9]{1,2} [0-9][ABD-HJLNP-UW-Z]{2}$/);
    }
  });

  it('has an age, sex and ethnicity structure near England’s (Census 2021)', () => {
    expect(share((x) => x.age >= 65)).toBeGreaterThan(0.15);
    expect(share((x) => x.age >= 65)).toBeLessThan(0.22);
    expect(share((x) => x.age < 18)).toBeGreaterThan(0.17);
    expect(share((x) => x.age < 18)).toBeLessThan(0.25);
    expect(share((x) => x.sex === 'female')).toBeGreaterThan(0.47);
    expect(share((x) => x.sex === 'female')).toBeLessThan(0.54);
    expect(share((x) => x.ethnicity === 'A')).toBeGreaterThan(0.6);
    expect(share((x) => x.ethnicity === 'A')).toBeLessThan(0.85);
    expect(new Set(people.map((x) => x.ethnicity)).size).toBeGreaterThanOrEqual(15);
  });

  it('spreads people over every deprivation decile', () => {
    for (let decile = 1; decile <= 10; decile++) {
      const s = share((x) => x.sector.decile === decile);
      expect(s, `decile ${decile}`).toBeGreaterThan(0.04);
      expect(s, `decile ${decile}`).toBeLessThan(0.18);
    }
  });

  it('makes frailty rise with age and with deprivation, and polypharmacy happen', () => {
    const deficits = (from: number, to: number, of = people) =>
      mean(of.filter((x) => x.age >= from && x.age <= to).map((x) => x.deficits.length));
    expect(deficits(40, 64)).toBeLessThan(deficits(65, 74));
    expect(deficits(65, 74)).toBeLessThan(deficits(75, 84));
    expect(deficits(75, 84)).toBeLessThan(deficits(85, 110));
    const deprived = people.filter((x) => x.sector.decile <= 3);
    const affluent = people.filter((x) => x.sector.decile >= 8);
    expect(deficits(65, 110, deprived)).toBeGreaterThan(deficits(65, 110, affluent));
    const older = people.filter((x) => x.age >= 65);
    const poly = share((x) => x.deficits.includes('polypharmacy'), older);
    expect(poly).toBeGreaterThan(0.08);
    expect(poly).toBeLessThan(0.5);
    const severe = share((x) => x.deficits.length / 36 > 0.36, older);
    expect(severe).toBeGreaterThan(0.005);
    expect(severe).toBeLessThan(0.12);
  });

  it('has A&E attendances and emergency admissions at England-like rates, more for the frail', () => {
    const aePerYear = mean(people.map((x) => x.attendances.length)) / 2;
    const admissionsPerYear = mean(people.map((x) => x.admissions.length)) / 2;
    expect(aePerYear).toBeGreaterThan(0.2);
    expect(aePerYear).toBeLessThan(0.7);
    expect(admissionsPerYear).toBeGreaterThan(0.04);
    expect(admissionsPerYear).toBeLessThan(0.2);
    const frail = people.filter((x) => x.age >= 65 && x.deficits.length >= 5);
    const fit = people.filter((x) => x.age >= 65 && x.deficits.length <= 1);
    expect(mean(frail.map((x) => x.admissions.length))).toBeGreaterThan(mean(fit.map((x) => x.admissions.length)));
  });

  it('puts a few per cent on a caseload, each with a care coordinator, a care plan and a team', () => {
    const episodes = people.flatMap((_, i) =>
      (personResources(p, i) as Record<string, Loose>[]).filter((r) => r.resourceType === 'EpisodeOfCare'),
    );
    expect(episodes.length / people.length).toBeGreaterThan(0.015);
    expect(episodes.length / people.length).toBeLessThan(0.06);
    for (const e of episodes) {
      expect(e.careManager.reference).toMatch(/^PractitionerRole\//);
      expect(e.team[0].reference).toMatch(/^CareTeam\//);
    }
  });
});
