/**
 * Who lives in the neighbourhood: age and sex as England's population (ONS
 * Census 2021, five-year bands, rounded), ethnicity as England's Census 2021
 * shares (high-level ethnic groups mapped to the NHS Data Dictionary letters),
 * varied by area and by age (minority ethnic groups are younger in England).
 */
import { ETHNIC_CATEGORIES } from '../../server/src/population/codes.ts';
import { weighted, type Rng } from './random.ts';

/** [lowest age, highest age, share of England's population in %, share of women in the band]. */
export const AGE_BANDS: readonly (readonly [number, number, number, number])[] = [
  [0, 4, 5.4, 0.49],
  [5, 9, 5.9, 0.49],
  [10, 14, 5.9, 0.49],
  [15, 19, 5.6, 0.49],
  [20, 24, 6.0, 0.5],
  [25, 29, 6.7, 0.5],
  [30, 34, 6.9, 0.51],
  [35, 39, 6.6, 0.51],
  [40, 44, 6.3, 0.51],
  [45, 49, 6.3, 0.51],
  [50, 54, 6.9, 0.51],
  [55, 59, 6.7, 0.51],
  [60, 64, 5.9, 0.51],
  [65, 69, 5.0, 0.52],
  [70, 74, 5.0, 0.53],
  [75, 79, 3.6, 0.54],
  [80, 84, 2.4, 0.57],
  [85, 89, 1.5, 0.61],
  [90, 100, 0.8, 0.68],
];

export type Sex = 'female' | 'male';

export function ageAndSex(r: Rng): { age: number; sex: Sex } {
  const [low, high, , women] = weighted(
    r,
    AGE_BANDS.map((band) => [band, band[2]] as const),
  );
  // Within a band, a little fewer at the older end of the oldest bands.
  const span = high - low + 1;
  const age = low + Math.floor((low >= 85 ? r() * r() : r()) * span);
  return { age, sex: r() < women ? 'female' : 'male' };
}

/**
 * England, Census 2021, % of residents (ONS TS021): White British 73.5; Irish
 * 0.9; Gypsy or Irish Traveller, Roma and other White 6.7 (C); Mixed 0.9, 0.5,
 * 0.8, 0.7; Indian 3.3; Pakistani 2.8; Bangladeshi 1.1; Chinese 0.7; other Asian
 * 1.6; Caribbean 1.1; African 2.6; other Black 0.5; Arab and any other 2.2.
 * GP records also hold "not stated" (Z): given to 3% of people here.
 */
export const ETHNICITY_SHARES: readonly (readonly [string, number])[] = [
  ['A', 73.5],
  ['B', 0.9],
  ['C', 6.7],
  ['D', 0.9],
  ['E', 0.5],
  ['F', 0.8],
  ['G', 0.7],
  ['H', 3.3],
  ['J', 2.8],
  ['K', 1.1],
  ['L', 1.6],
  ['M', 1.1],
  ['N', 2.6],
  ['P', 0.5],
  ['R', 0.7],
  ['S', 2.2],
];
export const NOT_STATED_SHARE = 0.03;

for (const [code] of ETHNICITY_SHARES) {
  if (!ETHNIC_CATEGORIES[code]) throw new Error(`ethnic category ${code} is not in population/codes.ts`);
}

/**
 * An ethnic category for someone of this age in an area whose minority
 * ethnic shares are `diversity` times England's (White British takes the
 * rest). Older people are more often White British: over 65, the minority
 * shares are halved; under 18, raised by a third.
 */
export function ethnicity(r: Rng, diversity: number, age: number): string {
  if (r() < NOT_STATED_SHARE) return 'Z';
  const byAge = age >= 65 ? 0.5 : age < 18 ? 1.33 : 1.05;
  const minority = ETHNICITY_SHARES.filter(([code]) => code !== 'A').map(
    ([code, share]) => [code, share * diversity * byAge] as const,
  );
  const rest = Math.max(10, 100 - minority.reduce((sum, [, share]) => sum + share, 0));
  return weighted(r, [['A', rest] as const, ...minority]);
}
