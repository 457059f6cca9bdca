/**
 * The diff between two versions of a care plan (workflow/careplan/diff.ts):
 * the changes named at their elements, lists of references matched by
 * reference, and the result a FHIRPath Patch (R4 fhirpatch.html) that turns
 * the older version into the newer one.
 */
import type { CarePlan } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { applyFhirPathPatch } from '../../server/src/fhir/fhirpath-patch.ts';
import { diffResources } from '../../server/src/workflow/careplan/diff.ts';
import { operationParameter } from '../../server/src/workflow/careplan/diff-parameters.ts';

beforeAll(() => loadDefinitions());

const base: CarePlan = {
  resourceType: 'CarePlan',
  id: 'p1',
  meta: { versionId: '1', lastUpdated: '2025-01-01T00:00:00.000Z' },
  status: 'draft',
  intent: 'plan',
  title: 'Living well at home',
  subject: { reference: 'Patient/a' },
  careTeam: [{ reference: 'CareTeam/t' }],
  goal: [{ reference: 'Goal/g1' }, { reference: 'Goal/g2' }],
  activity: [
    { reference: { reference: 'Task/1' } },
    { reference: { reference: 'Task/2' }, progress: [{ text: 'Called' }] },
  ],
  note: [{ text: 'first' }, { text: 'second' }],
};

const next = (change: Partial<CarePlan>): CarePlan => ({
  ...structuredClone(base),
  meta: { versionId: '2', lastUpdated: '2025-01-02T00:00:00.000Z' },
  ...change,
});

/** Applying the diff as a FHIRPath Patch to `from` gives `to` (meta's version and time apart). */
function roundTrips(from: CarePlan, to: CarePlan): void {
  const ops = diffResources(from, to);
  const patched = ops.length
    ? applyFhirPathPatch(from, { resourceType: 'Parameters', parameter: ops.map(operationParameter) })
    : from;
  const strip = ({ meta: _m, ...r }: CarePlan) => r;
  expect(strip(patched as CarePlan)).toEqual(strip(to));
}

describe('diffResources', () => {
  it('finds nothing between a version and a copy with only meta changed', () => {
    expect(diffResources(base, next({}))).toEqual([]);
  });

  it('names a changed primitive with old and new values and its type', () => {
    const ops = diffResources(base, next({ status: 'active' }));
    expect(ops).toEqual([
      { type: 'replace', path: 'CarePlan.status', previousValue: 'draft', value: 'active', valueType: 'code' },
    ]);
    expect(operationParameter(ops[0])).toEqual({
      name: 'operation',
      part: [
        { name: 'type', valueCode: 'replace' },
        { name: 'path', valueString: 'CarePlan.status' },
        { name: 'previousValue', valueCode: 'draft' },
        { name: 'value', valueCode: 'active' },
      ],
    });
  });

  it('adds and deletes single elements', () => {
    const { title: _t, ...noTitle } = next({ period: { start: '2025-02-01' } });
    const ops = diffResources(base, noTitle as CarePlan);
    expect(ops).toContainEqual({
      type: 'delete',
      path: 'CarePlan.title',
      previousValue: 'Living well at home',
      valueType: 'string',
    });
    expect(ops).toContainEqual({
      type: 'add',
      path: 'CarePlan',
      name: 'period',
      value: { start: '2025-02-01' },
      valueType: 'Period',
    });
    roundTrips(base, noTitle as CarePlan);
  });

  it('matches goals by reference: one removed and one inserted, whatever their positions', () => {
    const to = next({ goal: [{ reference: 'Goal/g3' }, { reference: 'Goal/g2' }] });
    const ops = diffResources(base, to);
    expect(ops).toEqual([
      {
        type: 'delete',
        path: "CarePlan.goal.where(reference='Goal/g1')",
        previousValue: { reference: 'Goal/g1' },
        valueType: 'Reference',
      },
      { type: 'insert', path: 'CarePlan.goal', index: 0, value: { reference: 'Goal/g3' }, valueType: 'Reference' },
    ]);
    roundTrips(base, to);
  });

  it('matches activities by their reference and names a change inside one', () => {
    const to = next({
      activity: [
        { reference: { reference: 'Task/2' }, progress: [{ text: 'Called twice' }] },
        { reference: { reference: 'Task/3' } },
      ],
    });
    const ops = diffResources(base, to);
    expect(ops.map((o) => [o.type, o.path])).toEqual([
      ['delete', "CarePlan.activity.where(reference.reference='Task/1')"],
      ['replace', "CarePlan.activity.where(reference.reference='Task/2').progress[0].text"],
      ['insert', 'CarePlan.activity'],
    ]);
    const inserted = operationParameter(ops[2]);
    expect(inserted.part?.find((p) => p.name === 'value')).toEqual({
      name: 'value',
      part: [{ name: 'reference', valueReference: { reference: 'Task/3' } }],
    });
    roundTrips(base, to);
  });

  it('compares other lists by index: changed, dropped from the end, added at the end', () => {
    const shorter = next({ note: [{ text: 'first, edited' }] });
    expect(diffResources(base, shorter).map((o) => [o.type, o.path])).toEqual([
      ['replace', 'CarePlan.note[0].text'],
      ['delete', 'CarePlan.note[1]'],
    ]);
    roundTrips(base, shorter);
    const longer = next({ note: [...base.note!, { text: 'third' }] });
    expect(diffResources(base, longer)).toEqual([
      { type: 'add', path: 'CarePlan', name: 'note', value: { text: 'third' }, valueType: 'Annotation' },
    ]);
    roundTrips(base, longer);
  });

  it('falls back to index when two items share a reference', () => {
    const to = next({ goal: [{ reference: 'Goal/g1' }, { reference: 'Goal/g1' }] });
    expect(diffResources(base, to).map((o) => [o.type, o.path])).toEqual([['replace', 'CarePlan.goal[1].reference']]);
    roundTrips(base, to);
  });

  it('round-trips a plan that gains its first goals and loses all its activities', () => {
    const { goal: _g, ...noGoals } = structuredClone(base);
    const to = next({ goal: [{ reference: 'Goal/x' }, { reference: 'Goal/y' }], activity: undefined });
    delete to.activity;
    roundTrips(noGoals as CarePlan, to);
  });
});
