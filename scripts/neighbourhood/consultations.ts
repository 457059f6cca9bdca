/**
 * Routine primary care: a person's GP practice appointments in the two years
 * before the as-of date, as a GP system records them: `Encounter` class AMB
 * (ambulatory; never EMER or IMP, so stratification does not count them as
 * emergency care), the registered practice as `serviceProvider`, the
 * clinician as participant (mostly the person's usual GP: continuity).
 *
 * Rates: England's GP practices deliver about 5-6 appointments a person a
 * year with all clinicians (NHS Digital, Appointments in General Practice);
 * GP and nurse consultations recorded against a person rise with age and
 * long-term conditions (Hobbs et al., Lancet 2016): here 1.8 a year under
 * 18, 2.2 at 18-39, 2.8 at 40-64, 4 at 65-74, 5 at 75-84, 6 at 85+, plus 0.4
 * per long-term condition (at most 3), times a milder deprivation gradient.
 * People with a condition on a QOF register have an annual review each year;
 * adults 40-74 without one may have an NHS Health Check (every 5 years,
 * about 45% uptake).
 */
import { LONG_TERM_CONDITION_DEFICITS, OTHER_LONG_TERM_CONDITIONS } from '../../server/src/population/codes.ts';
import { DAY_MS } from './fhir.ts';
import type { Person } from './person.ts';
import { ageBand, deprivationFactor } from './prevalence.ts';
import { chance, pick, poisson, rng, STREAM, type Rng } from './random.ts';

export type ConsultationKind = 'review' | 'health-check' | 'problem' | 'follow-up';

export interface Consultation {
  /** Encounter id. */
  id: string;
  kind: ConsultationKind;
  /** Start instant (ms), a weekday in surgery hours, before the as-of date. */
  start: number;
  minutes: number;
  /** PractitionerRole reference of the clinician. */
  clinician: string;
}

/** Yearly consultations by age band (0-17, 18-39, 40-64, 65-74, 75-84, 85+). */
const RATE = [1.8, 2.2, 2.8, 4, 5, 6];
const PER_CONDITION = 0.4;

/** Conditions with a register and an annual review in QOF (deficit keys and other long-term condition groups). */
export const REVIEWED = new Set([
  'hypertension',
  'diabetes',
  'chronic-kidney-disease',
  'ischaemic-heart-disease',
  'heart-failure',
  'cerebrovascular-disease',
  'atrial-fibrillation',
  'peripheral-vascular-disease',
  'respiratory-disease',
  'serious-mental-illness',
  'memory-cognitive-problems',
  'epilepsy',
  'learning-disability',
]);

const OTHER_GROUPS = new Set(OTHER_LONG_TERM_CONDITIONS.map((c) => c.group));

/** Long-term condition groups of a person (as multimorbidity counts them). */
export function conditionGroups(person: Person): Set<string> {
  return new Set(
    person.diagnoses
      .filter(
        (d) => d.recordedAs === 'Condition' && (LONG_TERM_CONDITION_DEFICITS.has(d.key) || OTHER_GROUPS.has(d.key)),
      )
      .map((d) => d.key),
  );
}

export function consultationsOf(seed: number, person: Person, asOf: number, gps: readonly string[]): Consultation[] {
  const r = rng(seed, STREAM.consultations, person.index);
  const groups = conditionGroups(person);
  const reviewed = [...groups].some((g) => REVIEWED.has(g));
  const usual = pick(r, gps);
  const clinician = () => (chance(r, 0.7) ? usual : pick(r, gps));
  const rate =
    (RATE[ageBand(person.age)] + PER_CONDITION * Math.min(3, groups.size)) *
    Math.sqrt(deprivationFactor(person.sector.decile));
  const visits: { kind: ConsultationKind; daysAgo: number }[] = [];
  if (reviewed && person.age >= 18) {
    // One annual review in each of the two years.
    for (const year of [0, 1]) visits.push({ kind: 'review', daysAgo: year * 365 + 1 + r() * 363 });
  } else if (person.age >= 40 && person.age < 75 && chance(r, 0.45 * (2 / 5))) {
    visits.push({ kind: 'health-check', daysAgo: 1 + r() * 728 });
  }
  for (let k = Math.min(30, poisson(r, 2 * rate)); k > 0; k--) {
    visits.push({ kind: chance(r, 0.3) ? 'follow-up' : 'problem', daysAgo: 1 + r() * 728 });
  }
  visits.sort((a, b) => b.daysAgo - a.daysAgo);
  return visits.map((v, k) => ({
    id: `${person.id}-gp${k}`,
    kind: v.kind,
    start: surgeryTime(r, asOf, v.daysAgo),
    minutes: v.kind === 'review' || v.kind === 'health-check' ? 20 : 10,
    clinician: clinician(),
  }));
}

/** A weekday slot between 08:30 and 17:50 (UTC) on the day `daysAgo` before the as-of date. */
function surgeryTime(r: Rng, asOf: number, daysAgo: number): number {
  let day = Math.floor(asOf / DAY_MS) - Math.ceil(daysAgo);
  const weekday = new Date(day * DAY_MS).getUTCDay();
  if (weekday === 6) day -= 1;
  if (weekday === 0) day -= 2;
  const slot = Math.floor(r() * 57); // 10-minute slots from 08:30
  return day * DAY_MS + (8.5 * 60 + slot * 10) * 60_000;
}
