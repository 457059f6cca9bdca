/**
 * Vaccinations a GP record holds (UK Green Book programmes, uptake as UKHSA
 * reports it, rounded): seasonal flu each autumn for people 65+ (about 75%),
 * adults in a clinical risk group (long-term heart, lung, kidney or liver
 * disease, diabetes, stroke, learning disability: about 40%) and children
 * 2-16 (nasal spray, about 45%); the COVID-19 booster each autumn and spring
 * for people 75+ and care home residents (about 60% and 50%); the
 * pneumococcal polysaccharide vaccine once at 65 (about 70%). SNOMED CT
 * vaccine products; Immunization resources are not read by $stratify.
 */
import { SNOMED } from '../../server/src/population/codes.ts';
import { coding, concept, DAY_MS, ref, type GeneratedResource } from './fhir.ts';
import type { Person } from './person.ts';
import { chance, int, rng, STREAM } from './random.ts';

const VACCINES = {
  flu: ['836377006', 'Influenza virus antigen-containing vaccine product', 'Seasonal influenza vaccine'],
  covid: ['1119349007', 'SARS-CoV-2 mRNA vaccine', 'COVID-19 booster'],
  pneumococcal: ['836398006', 'Streptococcus pneumoniae antigen-containing vaccine product', 'Pneumococcal vaccine'],
} as const;
const INTRAMUSCULAR = ['78421000', 'Intramuscular route'] as const;
const NASAL = ['46713006', 'Nasal route'] as const;

/** Conditions that make an adult eligible for the flu vaccine (deficit keys or other long-term condition groups). */
const FLU_RISK = new Set([
  'respiratory-disease',
  'heart-failure',
  'ischaemic-heart-disease',
  'atrial-fibrillation',
  'chronic-kidney-disease',
  'liver-disease',
  'diabetes',
  'cerebrovascular-disease',
  'learning-disability',
  'serious-mental-illness',
]);

export function immunizationResources(
  seed: number,
  person: Person,
  asOf: number,
  practice: string,
): GeneratedResource[] {
  const r = rng(seed, STREAM.immunizations, person.index);
  const keys = new Set(person.diagnoses.map((d) => d.key));
  const birth = Date.parse(person.birthDate);
  const ageAt = (t: number) => (t - birth) / (365.25 * DAY_MS);
  const careHome = keys.has('requirement-for-care');
  const given: { vaccine: keyof typeof VACCINES; at: number; nasal?: boolean }[] = [];
  const asOfYear = new Date(asOf).getUTCFullYear();
  const day = (year: number, month: number, date: number) =>
    Date.UTC(year, month, date) + (9 + int(r, 0, 8)) * 3_600_000;
  // The last two flu seasons (1 September) and the spring campaigns (1 April) that began before the as-of date.
  const autumns = [asOfYear, asOfYear - 1, asOfYear - 2].map((y) => Date.UTC(y, 8, 1)).filter((t) => t < asOf);
  for (const season of autumns.slice(0, 2)) {
    const age = ageAt(season);
    const flu =
      age >= 65
        ? 0.75
        : age >= 18
          ? [...keys].some((k) => FLU_RISK.has(k))
            ? 0.4
            : 0
          : age >= 2 && age < 17
            ? 0.45
            : 0;
    const year = new Date(season).getUTCFullYear();
    if (chance(r, flu)) given.push({ vaccine: 'flu', at: day(year, 8, 10 + int(r, 0, 80)), nasal: age < 17 });
    if ((age >= 75 || careHome) && chance(r, 0.6))
      given.push({ vaccine: 'covid', at: day(year, 9, 1 + int(r, 0, 60)) });
  }
  const springs = [asOfYear, asOfYear - 1, asOfYear - 2].map((y) => Date.UTC(y, 3, 1)).filter((t) => t < asOf);
  for (const spring of springs.slice(0, 2)) {
    if ((ageAt(spring) >= 75 || careHome) && chance(r, 0.5)) {
      given.push({ vaccine: 'covid', at: day(new Date(spring).getUTCFullYear(), 3, 1 + int(r, 0, 60)) });
    }
  }
  if (person.age >= 65 && chance(r, 0.7)) {
    const at = birth + 65 * 365.25 * DAY_MS + int(r, 14, 300) * DAY_MS;
    given.push({ vaccine: 'pneumococcal', at: Math.floor(at / 3_600_000) * 3_600_000 });
  }
  return given
    .filter((g) => g.at < asOf - DAY_MS)
    .sort((a, b) => a.at - b.at)
    .map((g, k) => {
      const [code, display, text] = VACCINES[g.vaccine];
      const route = g.nasal ? NASAL : INTRAMUSCULAR;
      const when = new Date(g.at).toISOString();
      return {
        resourceType: 'Immunization',
        id: `${person.id}-imm${k}`,
        status: 'completed',
        vaccineCode: { coding: [coding(SNOMED, code, display)], text },
        patient: ref(`Patient/${person.id}`),
        occurrenceDateTime: when,
        recorded: when,
        primarySource: true,
        route: concept(SNOMED, route[0], route[1]),
        performer: [{ actor: ref(practice) }],
      };
    });
}
