/**
 * The MeasureReport builder (server/src/population/measure-report.ts) and the
 * installed Measures (measures.ts): scores by scoring method (R4 MeasureReport
 * "measureScore": proportion, ratio, cohort, continuous-variable), strata in
 * order with "unknown" last, zero counts for absent populations, subject lists.
 */
import { describe, expect, it } from 'vitest';
import { measureReport, MEAN_EXTENSION } from '../../server/src/population/measure-report.ts';
import { MEASURE_BASE, measureDefinition, measureResources } from '../../server/src/population/measures.ts';
import type { MeasureRow } from '../../server/src/store/measures.ts';

const measure = (id: string) => measureResources().find((m) => m.id === id)!;
const row = (grp: string, population: string, count: number, more: Partial<MeasureRow> = {}): MeasureRow => ({
  grp,
  population,
  stratifier: null,
  stratum: null,
  count,
  mean: null,
  median: null,
  items: null,
  patients: null,
  ...more,
});
const strat = (stratifier: string, stratum: string) => ({ stratifier, stratum });
const base = { type: 'summary' as const, periodStart: '2026-01-01', periodEnd: '2026-12-31', now: new Date(0) };

describe('measure definitions', () => {
  it('five Hearth measures with canonical URLs, populations and both stratifiers', () => {
    const all = measureResources();
    expect(all.map((m) => m.id)).toEqual([
      'neighbourhood-caseload',
      'referral-response-time',
      'ucr-two-hour',
      'open-overdue-tasks',
      'cohort-emergency-admissions',
    ]);
    for (const m of all) {
      expect(m.url).toBe(`${MEASURE_BASE}${m.id}`);
      expect(m.scoring!.coding![0].code).toBe(measureDefinition(m.id as never).scoring);
      for (const g of m.group!) {
        expect(g.population!.length).toBeGreaterThan(0);
        expect(g.stratifier!.map((s) => s.code!.coding![0].code)).toEqual(['deprivation-decile', 'ethnicity']);
      }
    }
  });
});

describe('measureReport', () => {
  it('proportion: numerator / (denominator − exclusions), per stratum too; absent populations count 0', () => {
    const rows = [
      row('ucr-two-hour', 'initial-population', 5),
      row('ucr-two-hour', 'denominator', 5),
      row('ucr-two-hour', 'denominator-exclusion', 1),
      row('ucr-two-hour', 'numerator', 3),
      row('ucr-two-hour', 'denominator', 2, strat('deprivation-decile', 'unknown')),
      row('ucr-two-hour', 'numerator', 1, strat('deprivation-decile', 'unknown')),
      row('ucr-two-hour', 'denominator', 3, strat('deprivation-decile', '10')),
      row('ucr-two-hour', 'denominator-exclusion', 1, strat('deprivation-decile', '10')),
      row('ucr-two-hour', 'numerator', 2, strat('deprivation-decile', '10')),
      row('ucr-two-hour', 'denominator', 3, strat('deprivation-decile', '2')),
      row('ucr-two-hour', 'denominator-exclusion', 3, strat('deprivation-decile', '2')),
    ];
    const report = measureReport({ ...base, measure: measure('ucr-two-hour'), scoring: 'proportion', rows });
    expect(report.status).toBe('complete');
    expect(report.type).toBe('summary');
    expect(report.measure).toBe(`${MEASURE_BASE}ucr-two-hour`);
    const group = report.group![0];
    expect(group.measureScore!.value).toBe(0.75);
    const deciles = group.stratifier![0].stratum!;
    expect(deciles.map((s) => s.value!.text)).toEqual(['2', '10', 'unknown']);
    expect(deciles[0].measureScore).toBeUndefined(); // every one excluded: no score
    expect(deciles[1].measureScore!.value).toBe(1);
    expect(deciles[2].measureScore!.value).toBe(0.5);
    expect(deciles[2].value!.coding![0].code).toBe('unknown');
    expect(deciles[2].population!.map((p) => [p.code!.coding![0].code, p.count])).toEqual([
      ['initial-population', 0],
      ['denominator', 2],
      ['denominator-exclusion', 0],
      ['numerator', 1],
    ]);
  });

  it('ratio: numerator per 1,000 of the denominator; none without a denominator', () => {
    const g = 'emergency-admissions';
    const rows = [
      row(g, 'denominator', 8),
      row(g, 'numerator', 3),
      row(g, 'numerator', 1, strat('ethnicity', 'A')),
      row(g, 'denominator', 4, strat('ethnicity', 'A')),
    ];
    const report = measureReport({ ...base, measure: measure('cohort-emergency-admissions'), scoring: 'ratio', rows });
    expect(report.group![0].measureScore).toMatchObject({ value: 375, code: '/10*3' });
    const a = report.group![0].stratifier![1].stratum![0];
    expect(a.value!.coding![0]).toMatchObject({ code: 'A', display: 'White - British' });
    expect(a.measureScore!.value).toBe(250);
    const empty = measureReport({
      ...base,
      measure: measure('cohort-emergency-admissions'),
      scoring: 'ratio',
      rows: [],
    });
    expect(empty.group![0].measureScore).toBeUndefined();
    expect(empty.group![0].population!.every((p) => p.count === 0)).toBe(true);
  });

  it('continuous variable: median as measureScore, mean in the extension (hours)', () => {
    const rows = [row('response-time', 'measure-observation', 3, { median: 1.5, mean: 2.123456 })];
    const report = measureReport({
      ...base,
      measure: measure('referral-response-time'),
      scoring: 'continuous-variable',
      rows,
    });
    const group = report.group![0];
    expect(group.measureScore).toMatchObject({ value: 1.5, code: 'h', system: 'http://unitsofmeasure.org' });
    expect(group.extension).toEqual([
      {
        url: MEAN_EXTENSION,
        valueQuantity: { value: 2.1235, unit: 'h', system: 'http://unitsofmeasure.org', code: 'h' },
      },
    ]);
  });

  it('cohort groups score their count; subject-list contains a List per population', () => {
    const rows = [row('open', 'initial-population', 2, { items: ['Task/b', 'Task/a'], patients: ['p1'] })];
    const report = measureReport({
      ...base,
      type: 'subject-list',
      measure: measure('open-overdue-tasks'),
      scoring: 'cohort',
      rows,
      subject: 'Organization/lcn',
    });
    expect(report.type).toBe('subject-list');
    expect(report.extension![0].valueReference!.reference).toBe('Organization/lcn');
    const [open, overdue] = report.group!;
    expect(open.measureScore!.value).toBe(2);
    expect(overdue.measureScore!.value).toBe(0);
    expect(open.population![0].subjectResults!.reference).toBe('#open-initial-population');
    const list = report.contained!.find((c) => c.id === 'open-initial-population') as { entry: unknown[] };
    expect(list.entry).toEqual([{ item: { reference: 'Task/a' } }, { item: { reference: 'Task/b' } }]);
    expect(report.contained!.find((c) => c.id === 'overdue-initial-population')).toMatchObject({
      resourceType: 'List',
      status: 'current',
      mode: 'snapshot',
    });
  });
});
