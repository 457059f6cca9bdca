/**
 * Bridges-to-Health segments (Lynn et al. 2007; STANDARDS.md §8.2): every
 * person is in exactly one, the first of this list whose rule they meet
 * (highest need wins). The rules are Hearth's (docs/population-stratify.md
 * "Segments").
 */
import type { PersonEvidence } from './evidence.ts';
import type { FrailtyBand } from './frailty.ts';

export type SegmentKey =
  'end-of-life' | 'frailty' | 'organ-failure' | 'disability' | 'maternal-infant' | 'chronic' | 'acute' | 'healthy';

export interface Segment {
  key: SegmentKey;
  name: string;
  rule: string;
  meets(e: PersonEvidence, band: FrailtyBand): boolean;
}

const ORGAN_FAILURE = ['heart-failure', 'chronic-kidney-disease', 'liver-disease'];
const DISABILITY_DEFICITS = ['activity-limitation', 'housebound', 'mobility-transfer-problems'];

/** In order of need: a person is in the first whose rule they meet. */
export const SEGMENTS: readonly Segment[] = [
  {
    key: 'end-of-life',
    name: 'Failing health near the end of life',
    rule: 'An active record of terminal illness (SNOMED 300936002).',
    meets: (e) => e.concepts.has('endOfLife'),
  },
  {
    key: 'frailty',
    name: 'Long-term frailty (including dementia)',
    rule: 'Moderate or severe frailty (eFI category), or dementia (SNOMED 52448006).',
    meets: (e, band) => band === 'moderate' || band === 'severe' || e.concepts.has('dementia'),
  },
  {
    key: 'organ-failure',
    name: 'Advanced organ system failure',
    rule: 'Heart failure, chronic kidney disease, liver disease or COPD, with an emergency admission in the last 12 months.',
    meets: (e) =>
      e.emergencyAdmissions.length > 0 &&
      (ORGAN_FAILURE.some((g) => e.conditionGroups.has(g)) || e.concepts.has('copd')),
  },
  {
    key: 'disability',
    name: 'Serious but stable disability',
    rule: 'A learning disability, or activity limitation, housebound, or mobility and transfer problems.',
    meets: (e) => e.conditionGroups.has('learning-disability') || DISABILITY_DEFICITS.some((d) => e.deficits.has(d)),
  },
  {
    key: 'maternal-infant',
    name: 'Maternal and infant health',
    rule: 'Under one year old, or an active record of pregnancy (SNOMED 77386006).',
    meets: (e) => (e.ageYears !== undefined && e.ageYears < 1) || e.concepts.has('pregnancy'),
  },
  {
    key: 'chronic',
    name: 'Stable chronic conditions',
    rule: 'At least one long-term condition group.',
    meets: (e) => e.conditionGroups.size > 0,
  },
  {
    key: 'acute',
    name: 'Acute illness (curable)',
    rule: 'An A&E attendance or emergency admission in the last 12 months.',
    meets: (e) => e.aeAttendances.length > 0 || e.emergencyAdmissions.length > 0,
  },
  { key: 'healthy', name: 'Healthy', rule: 'None of the above.', meets: () => true },
];

export function segmentOf(e: PersonEvidence, band: FrailtyBand): Segment {
  return SEGMENTS.find((s) => s.meets(e, band))!;
}
