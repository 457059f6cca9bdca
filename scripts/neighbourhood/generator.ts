/**
 * The synthetic neighbourhood generator: `planNeighbourhood(options)` lays out
 * the footprint (neighbourhoods of up to 50,000 people, their postcode
 * sectors and directory), `sharedResources(plan)` gives the directory and
 * `personResources(plan, i)` person i's whole record. Pure and seeded: the
 * same options give byte-identical resources, person by person, so a caller
 * can stream any range of people (never all in memory) and resume anywhere.
 * Ids are deterministic (`<prefix>-p<i>`, `<prefix>-p<i>-c0`, …), so loading
 * with PUT is idempotent.
 */
import { careResources } from './care.ts';
import {
  footprintDirectory,
  neighbourhoodDirectory,
  type Anchors,
  type Footprint,
  type NeighbourhoodDirectory,
} from './directory.ts';
import type { GeneratedResource } from './fhir.ts';
import { neighbourhoodSectors, type Sector } from './geography.ts';
import { nhsNumberCapacity } from './nhs-number.ts';
import { makePerson, type Person } from './person.ts';
import { clinicalResources, patientResource } from './record.ts';
import { routineResources } from './routine.ts';

export interface GeneratorOptions {
  people: number;
  seed: number;
  /** The date the record is as of (ISO date or instant): "the last two years" ends here. */
  asOf: string;
  /** Id prefix of every generated resource (default "nb"). */
  prefix?: string;
  /** Share of people on a neighbourhood team's caseload (default 0.035). */
  caseloadShare?: number;
  /** Most people in one neighbourhood (default 50,000); more people make more neighbourhoods. */
  neighbourhoodSize?: number;
  /** Existing resources used in place of generated ones (the demo's). */
  anchors?: Anchors;
}

export interface Neighbourhood {
  index: number;
  /** First person index and how many people. */
  start: number;
  count: number;
  sectors: Sector[];
  directory: NeighbourhoodDirectory;
  resources: GeneratedResource[];
}

export interface Plan {
  options: Required<Omit<GeneratorOptions, 'anchors'>> & { anchors: Anchors };
  asOfMs: number;
  footprint: Footprint;
  footprintResources: GeneratedResource[];
  neighbourhoods: Neighbourhood[];
}

export const DEFAULT_PEOPLE = 40_000;
export const DEFAULT_CASELOAD_SHARE = 0.035;
export const DEFAULT_NEIGHBOURHOOD_SIZE = 50_000;

export function planNeighbourhood(input: GeneratorOptions): Plan {
  const options = {
    prefix: 'nb',
    caseloadShare: DEFAULT_CASELOAD_SHARE,
    neighbourhoodSize: DEFAULT_NEIGHBOURHOOD_SIZE,
    anchors: {},
    ...input,
  };
  const { people, seed, prefix } = options;
  if (!Number.isInteger(people) || people < 1) throw new Error(`people must be a whole number above 0, not ${people}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a whole number from 0, not ${seed}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,19}$/.test(prefix)) throw new Error(`prefix "${prefix}" is not a short id part`);
  if (people > nhsNumberCapacity(seed)) throw new Error(`at most ${nhsNumberCapacity(seed)} people (NHS numbers)`);
  const asOfMs = Date.parse(options.asOf);
  if (Number.isNaN(asOfMs)) throw new Error(`as-of "${options.asOf}" is not a date`);
  const { footprint, resources: footprintResources } = footprintDirectory(prefix, options.anchors);
  const count = Math.ceil(people / options.neighbourhoodSize);
  const neighbourhoods: Neighbourhood[] = [];
  for (let n = 0, start = 0; n < count; n++) {
    const size = Math.floor(people / count) + (n < people % count ? 1 : 0);
    const { directory, resources } = neighbourhoodDirectory(seed, prefix, n, size, footprint, options.anchors);
    neighbourhoods.push({ index: n, start, count: size, sectors: neighbourhoodSectors(seed, n), directory, resources });
    start += size;
  }
  return { options, asOfMs, footprint, footprintResources, neighbourhoods };
}

/** The directory: organisations, services, practitioners, roles and teams (written before anyone's record). */
export function sharedResources(plan: Plan): GeneratedResource[] {
  return [...plan.footprintResources, ...plan.neighbourhoods.flatMap((n) => n.resources)];
}

export function neighbourhoodOf(plan: Plan, i: number): Neighbourhood {
  const found = plan.neighbourhoods.find((n) => i >= n.start && i < n.start + n.count);
  if (!found) throw new Error(`person ${i} is outside the neighbourhood (${plan.options.people} people)`);
  return found;
}

export function personOf(plan: Plan, i: number): Person {
  const { seed, prefix } = plan.options;
  return makePerson(seed, prefix, i, plan.asOfMs, neighbourhoodOf(plan, i).sectors);
}

/** Person i's whole record, in an order that refers only backwards (Patient first). */
export function personResources(plan: Plan, i: number): GeneratedResource[] {
  const neighbourhood = neighbourhoodOf(plan, i);
  const person = personOf(plan, i);
  const { directory } = neighbourhood;
  const practice = directory.practices[person.sectorIndex % directory.practices.length];
  const team = directory.teams[person.sectorIndex % directory.teams.length];
  return [
    patientResource(person, practice.organization),
    ...clinicalResources(person, plan.asOfMs, plan.footprint),
    ...routineResources(plan.options.seed, person, plan.asOfMs, practice),
    ...careResources(person, team, {
      seed: plan.options.seed,
      asOf: plan.asOfMs,
      caseloadShare: plan.options.caseloadShare,
      footprint: plan.footprint,
      directory,
    }),
  ];
}

/** Resources by type. */
export function countByType(resources: Iterable<GeneratedResource>, into: Record<string, number> = {}) {
  for (const resource of resources) into[resource.resourceType] = (into[resource.resourceType] ?? 0) + 1;
  return into;
}
