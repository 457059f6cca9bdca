/**
 * Hearth's five Measures and their reports (`Measure/{id}/$evaluate-measure`), read for the equity breakdown:
 * per Measure group, the populations and score overall and per stratum of deprivation decile and ethnicity.
 */
import type { MeasureReport, MeasureReportGroupPopulation, Quantity } from '@medplum/fhirtypes';

export const MEASURES: readonly { id: string; title: string }[] = [
  { id: 'neighbourhood-caseload', title: 'Caseload size' },
  { id: 'referral-response-time', title: 'Referral response time' },
  { id: 'ucr-two-hour', title: 'Urgent community response within 2 hours' },
  { id: 'open-overdue-tasks', title: 'Open and overdue tasks' },
  { id: 'cohort-emergency-admissions', title: 'Emergency admissions of the complex-needs cohort' },
];

export const STRATIFIERS = [
  { code: 'deprivation-decile', label: 'deprivation decile' },
  { code: 'ethnicity', label: 'ethnicity' },
] as const;

export interface Count {
  code: string;
  label: string;
  count: number;
}

export interface Stratum {
  label: string;
  score?: number;
  scoreText: string;
  populations: Count[];
}

export interface GroupView {
  id: string;
  title: string;
  score?: number;
  scoreText: string;
  /** The most a score can be for a chart's scale (1 for a proportion), when fixed. */
  scale?: number;
  populations: Count[];
  strata: Record<(typeof STRATIFIERS)[number]['code'], Stratum[]>;
}

/** The parameters of $evaluate-measure (GET): the period and, optionally, whose work (a team). */
export function evaluateParams(periodStart: string, periodEnd: string, subject?: string): Record<string, string> {
  return { periodStart, periodEnd, ...(subject ? { subject } : {}) };
}

const POPULATION_LABELS: Record<string, string> = {
  'initial-population': 'Initial population',
  denominator: 'Denominator',
  'denominator-exclusion': 'Denominator exclusion',
  numerator: 'Numerator',
  'measure-population': 'Measure population',
  'measure-population-exclusion': 'Excluded (not yet triaged)',
  'measure-observation': 'Observed',
};

function counts(populations: MeasureReportGroupPopulation[] | undefined): Count[] {
  return (populations ?? []).map((p) => {
    const code = p.code?.coding?.[0]?.code ?? p.code?.text ?? '';
    return { code, label: POPULATION_LABELS[code] ?? code, count: p.count ?? 0 };
  });
}

const number = (n: number, digits = 1) => n.toLocaleString('en-GB', { maximumFractionDigits: digits });

/** A score in words, by its unit: a proportion as a percentage, hours, per 1,000, or a count. */
export function scoreText(q: Quantity | undefined): string {
  if (q?.value === undefined) return 'no score';
  switch (q.code) {
    case '1':
      return `${number(q.value * 100)}%`;
    case 'h':
      return `${number(q.value)} h`;
    case '/10*3':
      return `${number(q.value)} per 1,000`;
    default:
      return number(q.value, 4);
  }
}

/** A stratum's value for a person: decile with its meaning, ethnic category by name, or unknown. */
export function stratumLabel(
  stratifier: string,
  value: { text?: string; coding?: { code?: string; display?: string }[] } | undefined,
): string {
  const coding = value?.coding?.[0];
  if (coding?.code === 'unknown' || value?.text === 'unknown') return 'Not recorded';
  if (stratifier === 'deprivation-decile') {
    const d = value?.text ?? '';
    return d === '1' ? '1 (most deprived)' : d === '10' ? '10 (least deprived)' : d;
  }
  return coding?.display ? `${coding.code}: ${coding.display}` : (coding?.code ?? value?.text ?? '');
}

export function measureGroups(report: MeasureReport): GroupView[] {
  return (report.group ?? []).map((g) => {
    const strata = { 'deprivation-decile': [] as Stratum[], ethnicity: [] as Stratum[] };
    for (const s of g.stratifier ?? []) {
      const code = s.code?.[0]?.coding?.[0]?.code;
      if (code !== 'deprivation-decile' && code !== 'ethnicity') continue;
      strata[code] = (s.stratum ?? []).map((st) => ({
        label: stratumLabel(code, st.value),
        score: st.measureScore?.value,
        scoreText: scoreText(st.measureScore),
        populations: counts(st.population),
      }));
    }
    return {
      id: g.id ?? '',
      title: g.code?.text ?? g.id ?? '',
      score: g.measureScore?.value,
      scoreText: scoreText(g.measureScore),
      scale: g.measureScore?.code === '1' ? 1 : undefined,
      populations: counts(g.population),
      strata,
    };
  });
}

/** The default period: the twelve months up to today (dates as yyyy-mm-dd). */
export function lastTwelveMonths(today = new Date()): { start: string; end: string } {
  const start = new Date(today);
  start.setFullYear(start.getFullYear() - 1);
  start.setDate(start.getDate() + 1);
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  return { start: iso(start), end: iso(today) };
}
