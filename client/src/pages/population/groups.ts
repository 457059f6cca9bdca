/**
 * The population Groups made by Hearth's $stratify, as the user may see them: the eight Bridges-to-Health
 * segments and the complex-needs cohort (`Group?code=…population-group|…`), each with its member count. A
 * Group is shown only to someone who may see every person in it, so a Group missing from the search is "not
 * available to you" (or not made yet: the API does not, and should not, say which).
 */
import type { Bundle, Group } from '@medplum/fhirtypes';

export const POPULATION_GROUP = 'https://hearth.example/fhir/CodeSystem/population-group';

export const SEGMENTS: readonly { code: string; label: string }[] = [
  { code: 'segment-end-of-life', label: 'Failing health near the end of life' },
  { code: 'segment-frailty', label: 'Long-term frailty (including dementia)' },
  { code: 'segment-organ-failure', label: 'Advanced organ system failure' },
  { code: 'segment-disability', label: 'Serious but stable disability' },
  { code: 'segment-maternal-infant', label: 'Maternal and infant health' },
  { code: 'segment-chronic', label: 'Stable chronic conditions' },
  { code: 'segment-acute', label: 'Acute illness (curable)' },
  { code: 'segment-healthy', label: 'Healthy' },
];
export const COHORT = { code: 'complex-needs', label: 'Complex-needs cohort' };

export interface GroupCount {
  code: string;
  label: string;
  /** Current members; undefined when the Group is not available to the user. */
  count?: number;
  rule?: string;
}

export interface PopulationGroups {
  segments: GroupCount[];
  cohort: GroupCount;
  /** Everyone in a segment (each person is in exactly one), when every segment is available. */
  stratified?: number;
}

/** The search for all nine Groups in one request, without their member lists (counts only). */
export function groupSearch(): Record<string, string> {
  return {
    code: [...SEGMENTS, COHORT].map((g) => `${POPULATION_GROUP}|${g.code}`).join(','),
    _elements: 'code,quantity,characteristic',
    _count: '50',
  };
}

const codeOf = (g: Group) => g.code?.coding?.find((c) => c.system === POPULATION_GROUP)?.code;

/** Member count of a Group: `quantity` (Hearth keeps it current), else its current (not inactive) members. */
export function memberCount(g: Group): number {
  return g.quantity ?? (g.member ?? []).filter((m) => !m.inactive).length;
}

export function populationGroups(bundle: Bundle): PopulationGroups {
  const found = new Map<string, Group>();
  for (const e of bundle.entry ?? []) {
    const g = e.resource as Group | undefined;
    const code = g && codeOf(g);
    if (g && code) found.set(code, g);
  }
  const view = ({ code, label }: { code: string; label: string }): GroupCount => {
    const g = found.get(code);
    return g
      ? { code, label, count: memberCount(g), rule: g.characteristic?.[0]?.valueCodeableConcept?.text }
      : { code, label };
  };
  const segments = SEGMENTS.map(view);
  const stratified = segments.every((s) => s.count !== undefined)
    ? segments.reduce((n, s) => n + (s.count ?? 0), 0)
    : undefined;
  return { segments, cohort: view(COHORT), stratified };
}
