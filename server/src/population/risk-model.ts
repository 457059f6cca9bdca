/**
 * Hearth's neighbourhood risk model, version 1 (docs/population-stratify.md
 * "Risk score"): a points score where every point has a stated reason.
 *
 *   frailty          fit 0 · mild 2 · moderate 4 · severe 6 (eFI category)
 *   multimorbidity   1 per long-term condition group beyond the first, at most 4
 *   admissions       3 per emergency admission in the last 12 months, at most 9
 *   A&E              1 per A&E attendance in the last 12 months, at most 3
 *   social factors   1 per factor present (housing, isolation, employment), at most 3
 *   deprivation      1 when the home address is in IMD decile 1 or 2
 *
 * Out of 26. Qualitative risk (risk-probability): high at 10 or more,
 * moderate at 5 to 9, low below 5. The model gives no calibrated
 * probability, so no probabilityDecimal is claimed.
 */
import type { PersonEvidence } from './evidence.ts';
import { efiScore, frailtyBand, type EfiCutPoints, type FrailtyBand } from './frailty.ts';

export const MODEL_CODE = 'hearth-risk';
export const MODEL_VERSION = '1';
export const MAX_SCORE = 26;

export const FRAILTY_POINTS: Readonly<Record<FrailtyBand, number>> = { fit: 0, mild: 2, moderate: 4, severe: 6 };
export const RISK_THRESHOLDS = { moderate: 5, high: 10 } as const;

export type QualitativeRisk = 'low' | 'moderate' | 'high';

export interface RiskResult {
  efi: number;
  deficitCount: number;
  band: FrailtyBand;
  score: number;
  risk: QualitativeRisk;
  /** One line per component that scored, e.g. "+4 moderate frailty (eFI 0.28: 10 of 36 deficits)". */
  reasons: string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function qualitativeRisk(score: number): QualitativeRisk {
  if (score >= RISK_THRESHOLDS.high) return 'high';
  if (score >= RISK_THRESHOLDS.moderate) return 'moderate';
  return 'low';
}

/** The score of one person's evidence, with its reasons. */
export function assessRisk(e: PersonEvidence, cuts: EfiCutPoints): RiskResult {
  const { score: efi, count } = efiScore(e.deficits.keys());
  const band = frailtyBand(efi, cuts);
  const reasons: string[] = [];
  let score = 0;
  const award = (points: number, why: string) => {
    if (points <= 0) return;
    score += points;
    reasons.push(`+${points} ${why}`);
  };
  award(FRAILTY_POINTS[band], `${band} frailty (eFI ${efi.toFixed(2)}: ${count} of 36 deficits)`);
  const groups = e.conditionGroups.size;
  award(Math.min(Math.max(groups - 1, 0), 4), `multimorbidity (${plural(groups, 'long-term condition group')})`);
  const admissions = e.emergencyAdmissions.length;
  award(Math.min(admissions * 3, 9), `${plural(admissions, 'emergency admission')} in the last 12 months`);
  const ae = e.aeAttendances.length;
  award(Math.min(ae, 3), `${plural(ae, 'A&E attendance')} in the last 12 months`);
  const social = [...e.social.keys()].sort();
  award(Math.min(social.length, 3), `social factors (${social.join(', ')})`);
  if (e.deprivationDecile !== undefined && e.deprivationDecile <= 2) {
    award(1, `home in IMD decile ${e.deprivationDecile} (most deprived fifth)`);
  }
  return { efi, deficitCount: count, band, score, risk: qualitativeRisk(score), reasons };
}
