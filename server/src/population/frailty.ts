/**
 * The electronic frailty index (Clegg et al. 2016; STANDARDS.md §8.1): the
 * share of the 36 deficits a person has (each counted once, however many
 * records show it), and its category by the cut-points (Clegg: fit ≤ 0.12 <
 * mild ≤ 0.24 < moderate ≤ 0.36 < severe; configurable, e.g. Discovery's
 * 0.13 for the first).
 */
import { EFI_DEFICITS } from './codes.ts';

export type FrailtyBand = 'fit' | 'mild' | 'moderate' | 'severe';

/** The upper bounds (inclusive) of fit, mild and moderate. */
export interface EfiCutPoints {
  fit: number;
  mild: number;
  moderate: number;
}

export const CLEGG_CUT_POINTS: EfiCutPoints = { fit: 0.12, mild: 0.24, moderate: 0.36 };

export const DEFICIT_COUNT = EFI_DEFICITS.length;
const KNOWN = new Set(EFI_DEFICITS.map((d) => d.key));

/** The eFI of a set of deficit keys: distinct known deficits / 36. */
export function efiScore(deficits: Iterable<string>): { score: number; count: number } {
  const present = new Set([...deficits].filter((k) => KNOWN.has(k)));
  return { score: present.size / DEFICIT_COUNT, count: present.size };
}

/** The category of an eFI score. */
export function frailtyBand(score: number, cuts: EfiCutPoints = CLEGG_CUT_POINTS): FrailtyBand {
  if (score <= cuts.fit) return 'fit';
  if (score <= cuts.mild) return 'mild';
  if (score <= cuts.moderate) return 'moderate';
  return 'severe';
}

/** Parses "0.12,0.24,0.36" (rising, each in (0, 1)); undefined when malformed. */
export function parseCutPoints(text: string): EfiCutPoints | undefined {
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p <= 0 || p >= 1)) return undefined;
  const [fit, mild, moderate] = parts;
  return fit < mild && mild < moderate ? { fit, mild, moderate } : undefined;
}
