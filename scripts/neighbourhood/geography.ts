/**
 * Where people live: each neighbourhood has 6 postcode districts of 4 sectors
 * each, in the fictional postcode area "RV" (no such area exists in the UK;
 * the codes are well formed: outward code area + district, inward code sector
 * digit + two unit letters). Each sector has an Index of Multiple Deprivation
 * decile (1 = most deprived tenth of England) and an ethnic diversity factor
 * (minority shares relative to England's). Deciles cover 1 to 10 in every
 * neighbourhood; some neighbourhoods lean more deprived or more affluent, so
 * a multi-neighbourhood footprint varies like a real place.
 */
import { rng, STREAM, type Rng } from './random.ts';

export const DISTRICTS_PER_NEIGHBOURHOOD = 6;
export const SECTORS_PER_DISTRICT = 4;
export const SECTORS_PER_NEIGHBOURHOOD = DISTRICTS_PER_NEIGHBOURHOOD * SECTORS_PER_DISTRICT;
/** Fictional postcode areas, used in turn (99 districts each). */
const AREAS = ['RV', 'RW', 'VR'];
/** Letters allowed in the unit of an inward code (not C, I, K, M, O, V). */
const UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';
const TOWNS = [
  'Riverside',
  'Millbrook',
  'Elmfield',
  'Hollins Cross',
  'Westmere',
  'Brackley Green',
  'Ashby Vale',
  'Fernside',
  'Stonebridge',
  'Larkhill Moor',
  'Oakbourne',
  'Kingsmead',
  'Thornleigh',
  'Marsh End',
  'Willowby',
  'Castle Ings',
];
/** How each neighbourhood leans: 0 as England, -2 more deprived, +2 more affluent (by neighbourhood number). */
const LEAN = [0, -2, 2, -1, 1, 0, -2, 1];

export interface Sector {
  /** e.g. "RV3 4" */
  sector: string;
  district: string;
  town: string;
  decile: number;
  diversity: number;
}

export function neighbourhoodSectors(seed: number, neighbourhood: number): Sector[] {
  const r = rng(seed, STREAM.geography, neighbourhood);
  const lean = LEAN[neighbourhood % LEAN.length];
  const sectors: Sector[] = [];
  for (let d = 0; d < DISTRICTS_PER_NEIGHBOURHOOD; d++) {
    const number = neighbourhood * DISTRICTS_PER_NEIGHBOURHOOD + d;
    const district = `${AREAS[Math.floor(number / 99) % AREAS.length]}${(number % 99) + 1}`;
    const town = TOWNS[number % TOWNS.length];
    for (let s = 0; s < SECTORS_PER_DISTRICT; s++) {
      const j = d * SECTORS_PER_DISTRICT + s;
      // Every decile appears (j + offset cycles through 1..10), then half the sectors move with the lean.
      let decile = 1 + ((j * 3 + seed + neighbourhood) % 10);
      if (lean && j % 2 === 0) decile = Math.min(10, Math.max(1, decile + lean));
      // More deprived (urban) areas are more diverse: 1.5 at decile 1 to 0.6 at decile 10, times 0.5 to 1.5.
      const diversity = (1.5 - 0.1 * (decile - 1)) * (0.5 + r());
      sectors.push({ sector: `${district} ${s * 2 + 1}`, district, town, decile, diversity });
    }
  }
  return sectors;
}

/** A full postcode in the sector. */
export function postcodeIn(r: Rng, sector: Sector): string {
  const letter = () => UNIT_LETTERS[Math.floor(r() * UNIT_LETTERS.length)];
  return `${sector.sector}${letter()}${letter()}`;
}

const STREETS = [
  'Mill Lane',
  'Church Street',
  'Station Road',
  'Park Avenue',
  'Victoria Road',
  'Green Lane',
  'The Crescent',
  'Meadow Way',
  'High Street',
  'Albert Terrace',
  'Orchard Close',
  'Brook Road',
];

export function streetAddress(r: Rng): string {
  return `${1 + Math.floor(r() * 180)} ${STREETS[Math.floor(r() * STREETS.length)]}`;
}
