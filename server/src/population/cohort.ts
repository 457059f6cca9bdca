/**
 * The complex-needs cohort (STANDARDS.md §8.4): the top share of the
 * population by risk score, ties broken by eFI (higher first) then by
 * patient id (ascending), so a run always picks the same people; nobody with
 * a score of 0 is in it. The last person in is the cut-off: between full
 * runs a re-stratified person is in the cohort when they rank at or ahead of
 * it.
 */
export interface Ranked {
  patientId: string;
  score: number;
  efi: number;
}

/** Negative when a ranks ahead of b. */
export function compareRank(a: Ranked, b: Ranked): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.efi !== b.efi) return b.efi - a.efi;
  return a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0;
}

/** How many of a population of `size` the share takes (rounded to the nearest person). */
export function cohortSize(size: number, share: number): number {
  return Math.round(size * share);
}

/** The cohort of a whole population and its cut-off (none when empty). */
export function selectCohort<T extends Ranked>(people: T[], share: number): { members: T[]; cutoff?: Ranked } {
  const ranked = people.filter((p) => p.score > 0).sort(compareRank);
  const members = ranked.slice(0, cohortSize(people.length, share));
  const last = members[members.length - 1];
  return { members, cutoff: last && { patientId: last.patientId, score: last.score, efi: last.efi } };
}

/** Whether a person belongs in the cohort given the last full run's cut-off. */
export function inCohort(person: Ranked, cutoff: Ranked | undefined): boolean {
  return !!cutoff && person.score > 0 && compareRank(person, cutoff) <= 0;
}
