/** Why a person is on the MDT list (workflow/mdt/reasons.ts): flags, risk and clocks judged at an instant. */
import type { Flag, RiskAssessment, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { breached, flagged, highRisk, mdtEntries } from '../../server/src/workflow/mdt/reasons.ts';

const NOW = Date.parse('2025-06-15T12:00:00Z');
const MDT = { coding: [{ system: 'https://hearth.example/fhir/CodeSystem/referral-category', code: 'mdt-review' }] };
const flag = (extra: Partial<Flag> = {}): Flag => ({
  resourceType: 'Flag',
  id: 'f',
  status: 'active',
  code: MDT,
  subject: { reference: 'Patient/p' },
  ...extra,
});
const risk = (prediction: RiskAssessment['prediction'], extra: Partial<RiskAssessment> = {}): RiskAssessment => ({
  resourceType: 'RiskAssessment',
  id: 'r',
  status: 'final',
  subject: { reference: 'Patient/p' },
  prediction,
  ...extra,
});
const task = (extra: Partial<Task>): Task => ({
  resourceType: 'Task',
  id: 't',
  status: 'in-progress',
  intent: 'order',
  ...extra,
});
const HIGH = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/risk-probability', code: 'high' }] };

describe('flagged', () => {
  it('takes an active mdt-review Flag within its period, and nothing else', () => {
    expect(flagged(flag(), NOW)).toBe(true);
    expect(flagged(flag({ period: { start: '2025-06-01', end: '2025-06-15' } }), NOW)).toBe(true);
    expect(flagged(flag({ period: { end: '2025-06-14' } }), NOW)).toBe(false);
    expect(flagged(flag({ period: { start: '2025-06-16' } }), NOW)).toBe(false);
    expect(flagged(flag({ status: 'inactive' }), NOW)).toBe(false);
    expect(flagged(flag({ code: { coding: [{ system: 'http://snomed.info/sct', code: '1' }] } }), NOW)).toBe(false);
  });
});

describe('highRisk', () => {
  it('takes qualitativeRisk high, or a probability at or above the threshold', () => {
    expect(highRisk(risk([{ qualitativeRisk: HIGH }]), 0.5)).toBe('High risk');
    expect(highRisk(risk([{ probabilityDecimal: 0.5 }]), 0.5)).toMatch(/^Risk 0.5/);
    expect(highRisk(risk([{ probabilityDecimal: 0.49 }]), 0.5)).toBeUndefined();
    expect(highRisk(risk([{ qualitativeRisk: { text: 'high' } }]), 0.5)).toBeUndefined();
    expect(highRisk(risk([{ qualitativeRisk: HIGH }], { status: 'entered-in-error' }), 0.5)).toBeUndefined();
    expect(highRisk(risk([{ qualitativeRisk: HIGH }], { method: { text: 'eFI' } }), 0.5)).toBe('High risk (eFI)');
  });
});

describe('breached', () => {
  it('takes an open task past its due time or marked breached', () => {
    expect(breached(task({ restriction: { period: { end: '2025-06-15T11:59:00Z' } } }), NOW)).toMatch(/^Due/);
    expect(breached(task({ restriction: { period: { end: '2025-06-15T12:01:00Z' } } }), NOW)).toBeUndefined();
    // A date alone is due until the end of that day.
    expect(breached(task({ restriction: { period: { end: '2025-06-15' } } }), NOW)).toBeUndefined();
    expect(breached(task({ restriction: { period: { end: '2025-06-14' } } }), NOW)).toMatch(/^Due/);
    const mark = [{ url: 'https://hearth.example/fhir/StructureDefinition/task-breach', valueBoolean: true }];
    expect(breached(task({ extension: mark }), NOW)).toBe('Marked as breached');
    expect(breached(task({ status: 'completed', extension: mark }), NOW)).toBeUndefined();
    expect(breached(task({ status: 'draft', restriction: { period: { end: '2025-01-01' } } }), NOW)).toBeUndefined();
  });
});

describe('mdtEntries', () => {
  it('groups reasons by person, drops those without any, and puts the most reasons first', () => {
    const entries = mdtEntries(
      [
        { patient: 'b', resource: flag({ id: 'f1' }) },
        { patient: 'a', resource: task({ id: 't1', restriction: { period: { end: '2025-01-01' } } }) },
        { patient: 'b', resource: risk([{ qualitativeRisk: HIGH }], { id: 'r1' }) },
        { patient: 'c', resource: flag({ id: 'f2', status: 'inactive' }) },
        { patient: 'b', resource: flag({ id: 'f1' }) },
      ],
      { now: NOW, riskThreshold: 0.5 },
    );
    expect(entries.map((e) => [e.patient, e.reasons.map((r) => `${r.code} ${r.evidence}`)])).toEqual([
      ['b', ['flagged Flag/f1', 'high-risk RiskAssessment/r1']],
      ['a', ['breached-clock Task/t1']],
    ]);
  });
});
