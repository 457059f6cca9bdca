import { describe, expect, it } from 'vitest';
import type { BundleEntry, Parameters } from '@medplum/fhirtypes';
import { caseloadParams, caseloadRows, nextSort } from './caseload/rows.ts';
import { describeOperation, planDiff } from './person/diff.ts';
import { MENTION, newMessage, threads } from './person/thread.ts';
import { priorityOf } from './tasks/priority.ts';
import { decisionsInput, mdtPeople } from './mdt/mdt.ts';

describe('caseload', () => {
  it('reads each person part of $caseload', () => {
    const answer: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'total', valueInteger: 1 },
        {
          name: 'person',
          part: [
            { name: 'patient', valueReference: { reference: 'Patient/p1', display: 'Margaret Hughes' } },
            { name: 'nhsNumber', valueIdentifier: { value: '9434765919' } },
            { name: 'careCoordinator', valueReference: { reference: 'PractitionerRole/r1' } },
            { name: 'risk', valueCodeableConcept: { coding: [{ code: 'high' }] } },
            { name: 'riskScore', valueDecimal: 0.8 },
            { name: 'openTasks', valueInteger: 2 },
            { name: 'nextTask', valueReference: { reference: 'Task/t1', display: 'Medication review' } },
            { name: 'nextDue', valueDateTime: '2026-11-20T10:00:00Z' },
            { name: 'overdue', valueBoolean: true },
          ],
        },
      ],
    };
    const { total, rows } = caseloadRows(answer);
    expect(total).toBe(1);
    expect(rows[0]).toMatchObject({
      patientId: 'p1',
      name: 'Margaret Hughes',
      nhsNumber: '9434765919',
      coordinator: 'PractitionerRole/r1',
      risk: 'high',
      riskScore: 0.8,
      openTasks: 2,
      nextTaskText: 'Medication review',
      overdue: true,
    });
  });

  it('asks only for the filters set, and turns a sorted column round', () => {
    expect(caseloadParams({ sort: '-risk', risk: 'high', overdue: '', coordinator: '' })).toEqual({
      _sort: '-risk',
      _count: '200',
      risk: 'high',
    });
    expect(nextSort('name', 'name')).toBe('-name');
    expect(nextSort('-name', 'name')).toBe('name');
    expect(nextSort('name', 'risk')).toBe('risk');
  });
});

describe('care plan changes', () => {
  it('says each FHIRPath Patch operation in words, and who made each version', () => {
    expect(
      describeOperation([
        { name: 'type', valueCode: 'replace' },
        { name: 'path', valueString: 'CarePlan.status' },
        { name: 'previousValue', valueCode: 'draft' },
        { name: 'value', valueCode: 'active' },
      ]),
    ).toBe('CarePlan.status: draft → active');
    expect(
      describeOperation([
        { name: 'type', valueCode: 'insert' },
        { name: 'path', valueString: 'CarePlan.goal' },
        { name: 'value', valueReference: { reference: 'Goal/g1' } },
      ]),
    ).toBe('CarePlan.goal: added Goal/g1');
    const diff = planDiff({
      resourceType: 'Parameters',
      parameter: [
        { name: 'from', valueId: '1' },
        { name: 'to', valueId: '2' },
        {
          name: 'version',
          part: [
            { name: 'versionId', valueId: '2' },
            {
              name: 'agent',
              part: [
                { name: 'type', valueCode: 'author' },
                { name: 'who', valueReference: { reference: 'PractitionerRole/r1' } },
              ],
            },
            {
              name: 'agent',
              part: [
                { name: 'type', valueCode: 'enterer' },
                { name: 'who', valueReference: { reference: 'Device/app' } },
              ],
            },
          ],
        },
      ],
    });
    expect(diff.versions).toEqual([
      { versionId: '2', recorded: undefined, activity: undefined, authors: [{ reference: 'PractitionerRole/r1' }] },
    ]);
  });
});

describe('conversation', () => {
  it('nests replies under the message they answer, oldest first', () => {
    const roots = threads([
      {
        resourceType: 'Communication',
        id: 'b',
        status: 'completed',
        sent: '2026-01-02',
        inResponseTo: [{ reference: 'Communication/a' }],
      },
      { resourceType: 'Communication', id: 'a', status: 'completed', sent: '2026-01-01' },
      { resourceType: 'Communication', id: 'c', status: 'completed', sent: '2026-01-03' },
    ]);
    expect(roots.map((n) => [n.message.id, n.replies.map((r) => r.message.id)])).toEqual([
      ['a', ['b']],
      ['c', []],
    ]);
  });

  it('makes the person mentioned a recipient too (Hearth refuses a mention that is not)', () => {
    const m = newMessage({
      patientId: 'p1',
      sender: 'PractitionerRole/me',
      team: 'CareTeam/t',
      text: 'Hello',
      mention: 'PractitionerRole/gp',
      replyTo: 'Communication/a',
      now: new Date('2026-01-01T00:00:00Z'),
    });
    expect(m.recipient).toEqual([{ reference: 'CareTeam/t' }, { reference: 'PractitionerRole/gp' }]);
    expect(m.extension).toEqual([{ url: MENTION, valueReference: { reference: 'PractitionerRole/gp' } }]);
    expect(m.inResponseTo).toEqual([{ reference: 'Communication/a' }]);
    expect(m.subject).toEqual({ reference: 'Patient/p1' });
  });
});

describe('priority score', () => {
  it('reads the score and its reasons from entry.search', () => {
    const entry: BundleEntry = {
      search: {
        mode: 'match',
        extension: [
          {
            url: 'https://hearth.example/fhir/StructureDefinition/priority-score',
            extension: [
              { url: 'score', valueDecimal: 37 },
              {
                url: 'reason',
                extension: [
                  { url: 'code', valueCode: 'overdue' },
                  { url: 'points', valueDecimal: 17 },
                  { url: 'text', valueString: 'overdue by 2 days' },
                ],
              },
            ],
          },
        ],
      },
    };
    expect(priorityOf(entry)).toEqual({
      score: 37,
      reasons: [{ code: 'overdue', points: 17, text: 'overdue by 2 days' }],
    });
    expect(priorityOf({})).toEqual({ reasons: [] });
  });
});

describe('MDT', () => {
  it('reads the list and sends only the decisions that were written', () => {
    const people = mdtPeople({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'person',
          part: [
            { name: 'patient', valueReference: { reference: 'Patient/p1' } },
            {
              name: 'reason',
              part: [
                { name: 'code', valueCode: 'high-risk' },
                { name: 'detail', valueString: 'High risk' },
              ],
            },
          ],
        },
      ],
    });
    expect(people).toEqual([
      { patient: 'Patient/p1', reasons: [{ code: 'high-risk', detail: 'High risk', evidence: undefined }] },
    ]);
    const input = decisionsInput(
      [
        {
          patient: 'Patient/p1',
          description: ' Falls clinic ',
          owner: 'PractitionerRole/r',
          due: '2026-12-01',
          priority: 'urgent',
        },
        {
          patient: 'Patient/p2',
          description: '  ',
          owner: 'PractitionerRole/r',
          due: '2026-12-01',
          priority: 'routine',
        },
      ],
      '',
      new Date('2026-11-23T09:00:00Z'),
    );
    expect(input.parameter?.map((p) => p.name)).toEqual(['meeting', 'decision']);
    expect(input.parameter?.[1].part?.find((p) => p.name === 'description')?.valueString).toBe('Falls clinic');
  });
});
