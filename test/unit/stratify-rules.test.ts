/**
 * The pure rules of risk stratification (STANDARDS.md §8 testable
 * requirements; docs/population-stratify.md): eFI = distinct deficits / 36
 * and its Clegg (or Discovery) categories at the boundary values; the risk
 * score's points and reasons; Bridges-to-Health segments exclusive and
 * hierarchical; the cohort's deterministic top share and cut-off; Group
 * membership closing a leaver's entry.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { EFI_DEFICITS } from '../../server/src/population/codes.ts';
import { compareRank, inCohort, selectCohort } from '../../server/src/population/cohort.ts';
import { personEvidence, type PersonEvidence } from '../../server/src/population/evidence.ts';
import { CLEGG_CUT_POINTS, efiScore, frailtyBand, parseCutPoints } from '../../server/src/population/frailty.ts';
import { COHORT_GROUP, currentMembers, withMembership } from '../../server/src/population/groups.ts';
import { assessRisk } from '../../server/src/population/risk-model.ts';
import { SEGMENTS, segmentOf } from '../../server/src/population/segments.ts';

const SCT = 'http://snomed.info/sct';
const now = new Date('2025-06-01T12:00:00Z');
const patient: Patient = { resourceType: 'Patient', id: 'p1', birthDate: '1940-01-01' };
const condition = (id: string, code: string, extra: Record<string, unknown> = {}): Resource =>
  ({
    resourceType: 'Condition',
    id,
    subject: { reference: 'Patient/p1' },
    code: { coding: [{ system: SCT, code }] },
    ...extra,
  }) as Resource;
const medication = (id: string, code: string): Resource =>
  ({
    resourceType: 'MedicationStatement',
    id,
    status: 'active',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: 'https://dmd', code }] },
  }) as Resource;
const encounter = (id: string, cls: string, start: string, emergency = false): Resource =>
  ({
    resourceType: 'Encounter',
    id,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
    ...(emergency
      ? { priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActPriority', code: 'EM' }] } }
      : {}),
    subject: { reference: 'Patient/p1' },
    period: { start },
  }) as Resource;

describe('eFI (Clegg 2016: deficits present / 36)', () => {
  it('has 36 deficits with distinct keys', () => {
    expect(EFI_DEFICITS).toHaveLength(36);
    expect(new Set(EFI_DEFICITS.map((d) => d.key)).size).toBe(36);
  });

  it('counts k distinct deficits as k/36, duplicates once, unknown keys not at all', () => {
    expect(efiScore([])).toEqual({ score: 0, count: 0 });
    expect(efiScore(['falls', 'diabetes', 'falls', 'not-a-deficit'])).toEqual({ score: 2 / 36, count: 2 });
    expect(efiScore(EFI_DEFICITS.map((d) => d.key)).score).toBe(1);
  });

  it('two records of the same deficit count once', () => {
    const e = personEvidence(patient, [condition('c1', '44054006'), condition('c2', '46635009')], now);
    expect([...e.deficits.keys()]).toEqual(['diabetes']);
    expect(e.deficits.get('diabetes')).toEqual(['Condition/c1', 'Condition/c2']);
  });

  it.each([
    [0, 'fit'],
    [0.12, 'fit'],
    [0.1201, 'mild'],
    [0.24, 'mild'],
    [0.2401, 'moderate'],
    [0.36, 'moderate'],
    [0.3601, 'severe'],
    [1, 'severe'],
  ])('Clegg cut-points: %s is %s', (score, band) => {
    expect(frailtyBand(score, CLEGG_CUT_POINTS)).toBe(band);
  });

  it("Discovery's 0.13 moves the first boundary", () => {
    const discovery = parseCutPoints('0.13,0.24,0.36')!;
    expect(frailtyBand(0.125, discovery)).toBe('fit');
    expect(frailtyBand(0.13, discovery)).toBe('fit');
    expect(frailtyBand(0.1301, discovery)).toBe('mild');
    expect(parseCutPoints('0.3,0.2,0.4')).toBeUndefined();
    expect(parseCutPoints('0.1,0.2')).toBeUndefined();
  });

  it('polypharmacy from five distinct active medications; resolved conditions do not count', () => {
    const meds = ['a', 'b', 'c', 'd'].map((c, i) => medication(`m${i}`, c));
    expect(personEvidence(patient, meds, now).deficits.has('polypharmacy')).toBe(false);
    expect(personEvidence(patient, [...meds, medication('m4', 'a')], now).deficits.has('polypharmacy')).toBe(false);
    const five = personEvidence(patient, [...meds, medication('m5', 'e')], now);
    expect(five.deficits.get('polypharmacy')).toHaveLength(5);
    const resolved = condition('c1', '84114007', {
      clinicalStatus: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }],
      },
    });
    expect(personEvidence(patient, [resolved], now).deficits.size).toBe(0);
  });
});

describe('risk score (Hearth model v1)', () => {
  it('adds the documented points with one reason per component', () => {
    const records = [
      // 10 deficits: moderate frailty (10/36 = 0.278): 4 points
      ...['84114007', '44054006', '38341003', '49436004', '64859006', '15188001', '397540003', '193462001'].map(
        (c, i) => condition(`c${i}`, c),
      ),
      condition('c8', '161898004'),
      condition('c9', '165232002'),
      condition('c10', '35489007'), // depression: another long-term condition group
      encounter('e1', 'IMP', '2025-03-01', true),
      encounter('e2', 'IMP', '2024-01-01', true), // over 12 months ago: not counted
      encounter('e3', 'EMER', '2025-05-01'),
      encounter('e4', 'IMP', '2025-04-01'), // elective: not counted
      {
        resourceType: 'Observation',
        id: 'o1',
        status: 'final',
        code: { coding: [{ system: SCT, code: '73438004' }] },
      } as Resource,
    ];
    const home: Patient = {
      ...patient,
      address: [
        {
          use: 'home',
          extension: [{ url: 'https://hearth.example/fhir/StructureDefinition/imd-decile', valueInteger: 2 }],
        },
      ],
    };
    const e = personEvidence(home, records, now);
    const r = assessRisk(e, CLEGG_CUT_POINTS);
    expect(r.band).toBe('moderate');
    // groups: heart-failure, diabetes, hypertension, AF, osteoporosis, mental-health = 6 -> min(5, 4) = 4
    expect(e.conditionGroups.size).toBe(6);
    expect(r.score).toBe(4 + 4 + 3 + 1 + 1 + 1);
    expect(r.risk).toBe('high');
    expect(r.reasons).toEqual([
      '+4 moderate frailty (eFI 0.28: 10 of 36 deficits)',
      '+4 multimorbidity (6 long-term condition groups)',
      '+3 1 emergency admission in the last 12 months',
      '+1 1 A&E attendance in the last 12 months',
      '+1 social factors (employment)',
      '+1 home in IMD decile 2 (most deprived fifth)',
    ]);
  });

  it('caps admissions at 9 and reads low / moderate / high at 5 and 10', () => {
    const e = personEvidence(
      patient,
      [1, 2, 3, 4].map((m) => encounter(`e${m}`, 'IMP', `2025-0${m}-01`, true)),
      now,
    );
    const r = assessRisk(e, CLEGG_CUT_POINTS);
    expect(r.score).toBe(9);
    expect(r.risk).toBe('moderate');
    expect(assessRisk(personEvidence(patient, [], now), CLEGG_CUT_POINTS)).toMatchObject({ score: 0, risk: 'low' });
  });
});

describe('Bridges-to-Health segments', () => {
  const evidence = (over: Partial<PersonEvidence>): PersonEvidence => ({
    patientId: 'p',
    deficits: new Map(),
    conditionGroups: new Set(),
    emergencyAdmissions: [],
    aeAttendances: [],
    social: new Map(),
    concepts: new Set(),
    activeMedications: 0,
    ageYears: 50,
    ...over,
  });
  const cases: [string, PersonEvidence, 'fit' | 'mild' | 'moderate' | 'severe'][] = [
    ['end-of-life', evidence({ concepts: new Set(['endOfLife', 'dementia']) }), 'severe'],
    ['frailty', evidence({ concepts: new Set(['dementia']) }), 'fit'],
    ['frailty', evidence({ conditionGroups: new Set(['heart-failure']), emergencyAdmissions: ['E/1'] }), 'moderate'],
    ['organ-failure', evidence({ conditionGroups: new Set(['heart-failure']), emergencyAdmissions: ['E/1'] }), 'mild'],
    ['chronic', evidence({ conditionGroups: new Set(['heart-failure']) }), 'mild'],
    ['disability', evidence({ deficits: new Map([['housebound', ['O/1']]]) }), 'fit'],
    ['maternal-infant', evidence({ ageYears: 0 }), 'fit'],
    ['acute', evidence({ aeAttendances: ['E/2'] }), 'fit'],
    ['healthy', evidence({}), 'fit'],
  ];
  it.each(cases)('puts the person in %s (highest need wins)', (key, e, band) => {
    expect(segmentOf(e, band).key).toBe(key);
  });

  it('is exclusive: exactly one segment is chosen, the first met in order', () => {
    for (const [, e, band] of cases) {
      const met = SEGMENTS.filter((s) => s.meets(e, band));
      expect(met.length).toBeGreaterThanOrEqual(1);
      expect(segmentOf(e, band)).toBe(met[0]);
    }
    expect(new Set(SEGMENTS.map((s) => s.key)).size).toBe(8);
  });
});

describe('complex-needs cohort', () => {
  const people = [
    { patientId: 'a', score: 5, efi: 0.1 },
    { patientId: 'b', score: 9, efi: 0.2 },
    { patientId: 'c', score: 9, efi: 0.3 },
    { patientId: 'd', score: 9, efi: 0.3 },
    { patientId: 'e', score: 0, efi: 0 },
    ...Array.from({ length: 25 }, (_, i) => ({ patientId: `z${i}`, score: 0, efi: 0 })),
  ];

  it('takes the top share by score, then eFI, then patient id; never a score of 0', () => {
    const { members, cutoff } = selectCohort(people, 0.1); // 30 people -> 3
    expect(members.map((m) => m.patientId)).toEqual(['c', 'd', 'b']);
    expect(cutoff).toEqual({ patientId: 'b', score: 9, efi: 0.2 });
    expect(selectCohort(people, 0.5).members).toHaveLength(4);
  });

  it('between runs a person is in when they rank at or ahead of the cut-off', () => {
    const cutoff = { patientId: 'b', score: 9, efi: 0.2 };
    expect(inCohort({ patientId: 'a', score: 10, efi: 0 }, cutoff)).toBe(true);
    expect(inCohort({ patientId: 'a', score: 9, efi: 0.2 }, cutoff)).toBe(true);
    expect(inCohort({ patientId: 'c', score: 9, efi: 0.2 }, cutoff)).toBe(false);
    expect(inCohort({ patientId: 'a', score: 8, efi: 1 }, cutoff)).toBe(false);
    expect(inCohort({ patientId: 'a', score: 8, efi: 1 }, undefined)).toBe(false);
    expect(compareRank({ patientId: 'x', score: 1, efi: 0 }, { patientId: 'x', score: 1, efi: 0 })).toBe(0);
  });

  it('a leaver keeps their member entry, closed; a joiner gets a new one', () => {
    const first = withMembership(
      COHORT_GROUP,
      undefined,
      new Map([
        ['a', true],
        ['b', true],
      ]),
      '2025-01-01',
    )!;
    expect(first.quantity).toBe(2);
    const second = withMembership(
      COHORT_GROUP,
      first,
      new Map([
        ['a', false],
        ['c', true],
        ['b', true],
      ]),
      '2025-02-01',
    )!;
    expect(second.member).toEqual([
      { entity: { reference: 'Patient/a' }, period: { start: '2025-01-01', end: '2025-02-01' }, inactive: true },
      { entity: { reference: 'Patient/b' }, period: { start: '2025-01-01' } },
      { entity: { reference: 'Patient/c' }, period: { start: '2025-02-01' } },
    ]);
    expect([...currentMembers(second)].sort()).toEqual(['b', 'c']);
    expect(withMembership(COHORT_GROUP, second, new Map([['b', true]]), '2025-03-01')).toBeUndefined();
  });
});
