import { describe, expect, it } from 'vitest';
import type { Bundle, MeasureReport } from '@medplum/fhirtypes';
import { groupSearch, populationGroups, POPULATION_GROUP, SEGMENTS } from './groups.ts';
import { evaluateParams, lastTwelveMonths, measureGroups, scoreText, stratumLabel } from './measures.ts';

const group = (code: string, quantity?: number, members: boolean[] = []) => ({
  resource: {
    resourceType: 'Group' as const,
    type: 'person' as const,
    actual: true,
    code: { coding: [{ system: POPULATION_GROUP, code }] },
    ...(quantity === undefined ? {} : { quantity }),
    member: members.map((inactive, i) => ({ entity: { reference: `Patient/p${i}` }, inactive })),
    characteristic: [
      { code: { text: 'Membership rule' }, valueCodeableConcept: { text: `rule of ${code}` }, exclude: false },
    ],
  },
});

describe('population groups', () => {
  it('searches the nine Groups by code in one request, counts only', () => {
    const p = groupSearch();
    expect(p.code.split(',')).toHaveLength(9);
    expect(p.code).toContain(`${POPULATION_GROUP}|segment-end-of-life`);
    expect(p.code).toContain(`${POPULATION_GROUP}|complex-needs`);
    expect(p._elements).toBe('code,quantity,characteristic');
  });

  it('counts each segment and the cohort, and adds up those stratified when every segment is seen', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [...SEGMENTS.map((s, i) => group(s.code, i)), group('complex-needs', 2)],
    };
    const view = populationGroups(bundle);
    expect(view.segments.map((s) => s.count)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(view.stratified).toBe(28);
    expect(view.cohort).toMatchObject({ count: 2, rule: 'rule of complex-needs' });
  });

  it('marks a Group missing from the search as not available, and then does not add up', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [group('segment-healthy', undefined, [false, true, false])],
    };
    const view = populationGroups(bundle);
    expect(view.segments.find((s) => s.code === 'segment-healthy')?.count).toBe(2); // inactive left out
    expect(view.segments.find((s) => s.code === 'segment-frailty')?.count).toBeUndefined();
    expect(view.stratified).toBeUndefined();
    expect(view.cohort.count).toBeUndefined();
  });
});

describe('measure reports', () => {
  const pop = (code: string, count: number) => ({
    code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/measure-population', code }] },
    count,
  });
  const report: MeasureReport = {
    resourceType: 'MeasureReport',
    status: 'complete',
    type: 'summary',
    measure: 'https://hearth.example/fhir/Measure/ucr-two-hour',
    period: { start: '2026-01-01', end: '2026-03-31' },
    group: [
      {
        id: 'ucr-two-hour',
        code: { text: 'UCR referrals triaged within their 2-hour clock' },
        population: [pop('denominator', 5), pop('numerator', 2)],
        measureScore: { value: 0.5, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
        stratifier: [
          {
            code: [{ coding: [{ code: 'deprivation-decile' }] }],
            stratum: [
              {
                value: { text: '1' },
                population: [pop('denominator', 3), pop('numerator', 1)],
                measureScore: { value: 0.3333, code: '1' },
              },
              { value: { coding: [{ code: 'unknown' }], text: 'unknown' }, population: [pop('denominator', 0)] },
            ],
          },
          {
            code: [{ coding: [{ code: 'ethnicity' }] }],
            stratum: [
              {
                value: { coding: [{ code: 'H', display: 'Asian or Asian British - Indian' }], text: 'H' },
                population: [pop('denominator', 5)],
                measureScore: { value: 1, code: '1' },
              },
            ],
          },
        ],
      },
    ],
  };

  it('reads overall and per-stratum populations and scores, with a proportion on a fixed scale', () => {
    const [g] = measureGroups(report);
    expect(g).toMatchObject({ id: 'ucr-two-hour', score: 0.5, scoreText: '50%', scale: 1 });
    expect(g.populations).toEqual([
      { code: 'denominator', label: 'Denominator', count: 5 },
      { code: 'numerator', label: 'Numerator', count: 2 },
    ]);
    expect(g.strata['deprivation-decile'].map((s) => [s.label, s.score, s.scoreText])).toEqual([
      ['1 (most deprived)', 0.3333, '33.3%'],
      ['Not recorded', undefined, 'no score'],
    ]);
    expect(g.strata.ethnicity[0]).toMatchObject({ label: 'H: Asian or Asian British - Indian', scoreText: '100%' });
  });

  it('writes scores by unit', () => {
    expect(scoreText({ value: 3.25, code: 'h' })).toBe('3.3 h');
    expect(scoreText({ value: 250, code: '/10*3' })).toBe('250 per 1,000');
    expect(scoreText({ value: 12 })).toBe('12');
    expect(scoreText(undefined)).toBe('no score');
    expect(stratumLabel('deprivation-decile', { text: '10' })).toBe('10 (least deprived)');
  });

  it('asks for the period and, when chosen, the team', () => {
    expect(evaluateParams('2026-01-01', '2026-03-31')).toEqual({ periodStart: '2026-01-01', periodEnd: '2026-03-31' });
    expect(evaluateParams('2026-01-01', '2026-03-31', 'CareTeam/t')).toMatchObject({ subject: 'CareTeam/t' });
    expect(lastTwelveMonths(new Date('2026-03-15T12:00:00Z'))).toEqual({ start: '2025-03-16', end: '2026-03-15' });
  });
});
