/**
 * When a re-run writes no new version of a person's result (population/unchanged.ts,
 * docs/population-stratify.md "FHIR results"): the same result apart from the run's own times, and a current
 * version younger than HEARTH_STRATIFY_REFRESH_DAYS.
 */
import { describe, expect, it } from 'vitest';
import type { Observation, RiskAssessment } from '@medplum/fhirtypes';
import { efiObservation, riskAssessment } from '../../server/src/population/results.ts';
import { unchangedResult } from '../../server/src/population/unchanged.ts';
import { SEGMENTS } from '../../server/src/population/segments.ts';
import type { PersonEvidence } from '../../server/src/population/evidence.ts';
import type { RiskResult } from '../../server/src/population/risk-model.ts';

const evidence = {
  patientId: 'p1',
  deficits: new Map([['falls', ['Condition/c1']]]),
  emergencyAdmissions: ['Encounter/e1'],
  aeAttendances: [],
  social: new Map(),
} as unknown as PersonEvidence;
const result = {
  efi: 0.0278,
  band: 'fit',
  deficitCount: 1,
  score: 3,
  risk: 'low',
  reasons: ['+3 1 emergency admission in the last 12 months'],
} as unknown as RiskResult;
const segment = SEGMENTS.find((s) => s.key === 'acute')!;

const DAY = 86_400_000;
const earlier = new Date('2026-01-01T09:00:00.000Z');
/** A result as stored: stamped with its version and the time it was written. */
const stored = <T extends Observation | RiskAssessment>(r: T, at: Date): T => ({
  ...r,
  meta: { ...r.meta, versionId: '1', lastUpdated: at.toISOString() },
});

describe('unchangedResult', () => {
  const now = new Date(earlier.getTime() + 2 * DAY);
  const at = now.toISOString();

  it('is unchanged when only the run times differ (Observation and RiskAssessment)', () => {
    const obs = stored(efiObservation(evidence, result, earlier.toISOString()), earlier);
    const risk = stored(riskAssessment(evidence, result, segment, earlier.toISOString()), earlier);
    expect(unchangedResult(obs, efiObservation(evidence, result, at), now, 30)).toBe(true);
    expect(unchangedResult(risk, riskAssessment(evidence, result, segment, at), now, 30)).toBe(true);
  });

  it('is changed when the score, the reasons, the evidence or the segment differ', () => {
    const risk = stored(riskAssessment(evidence, result, segment, earlier.toISOString()), earlier);
    const moreScore = { ...result, score: 4 } as RiskResult;
    expect(unchangedResult(risk, riskAssessment(evidence, moreScore, segment, at), now, 30)).toBe(false);
    const otherBasis = { ...evidence, aeAttendances: ['Encounter/e2'] } as PersonEvidence;
    expect(unchangedResult(risk, riskAssessment(otherBasis, result, segment, at), now, 30)).toBe(false);
    const healthy = SEGMENTS.find((s) => s.key === 'healthy')!;
    expect(unchangedResult(risk, riskAssessment(evidence, result, healthy, at), now, 30)).toBe(false);
    const obs = stored(efiObservation(evidence, result, earlier.toISOString()), earlier);
    const moreEfi = { ...result, efi: 0.0556, deficitCount: 2 } as RiskResult;
    expect(unchangedResult(obs, efiObservation(evidence, moreEfi, at), now, 30)).toBe(false);
  });

  it('is renewed once the current version is refreshDays old, and always with 0 days', () => {
    const risk = stored(riskAssessment(evidence, result, segment, earlier.toISOString()), earlier);
    const next = riskAssessment(evidence, result, segment, at);
    expect(unchangedResult(risk, next, new Date(earlier.getTime() + 30 * DAY - 1), 30)).toBe(true);
    expect(unchangedResult(risk, next, new Date(earlier.getTime() + 30 * DAY), 30)).toBe(false);
    expect(unchangedResult(risk, next, now, 0)).toBe(false);
  });

  it('is changed when the current version carries no lastUpdated', () => {
    const risk = riskAssessment(evidence, result, segment, earlier.toISOString());
    expect(unchangedResult(risk, riskAssessment(evidence, result, segment, at), now, 30)).toBe(false);
  });
});
