/**
 * Which team caseload rows a transaction changed (workflow/caseload-changes.ts)
 * and the triggers of caseload-changed and population-group-changed
 * (subscriptions/topics.ts, matcher.ts): one change per row, none for a row
 * left as it was; a Group is an event when its current members change.
 */
import type { Group } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { isEvent } from '../../server/src/subscriptions/matcher.ts';
import type { SubscriptionSpec } from '../../server/src/subscriptions/spec.ts';
import { currentMemberRefs, topicByUrl, TOPIC_BASE } from '../../server/src/subscriptions/topics.ts';
import { caseloadChanges } from '../../server/src/workflow/caseload-changes.ts';

const row = (team: string, episode: string, content: string) => ({ team, episode, patient: 'p1', row: content });

describe('caseloadChanges', () => {
  it('finds added, changed and removed rows, and leaves unchanged ones out', () => {
    const before = [row('a', 'e1', 'x'), row('b', 'e1', 'x'), row('c', 'e2', 'y')];
    const after = [row('a', 'e1', 'x2'), row('b', 'e1', 'x'), row('d', 'e3', 'z')];
    expect(caseloadChanges(before, after, new Set())).toEqual([
      { team: 'a', episode: 'e1', patient: 'p1', kind: 'changed' },
      { team: 'c', episode: 'e2', patient: 'p1', kind: 'removed' },
      { team: 'd', episode: 'e3', patient: 'p1', kind: 'added' },
    ]);
  });

  it('counts a row whose episode was written as changed even when its content is the same', () => {
    expect(caseloadChanges([row('a', 'e1', 'x')], [row('a', 'e1', 'x')], new Set(['e1']))).toEqual([
      { team: 'a', episode: 'e1', patient: 'p1', kind: 'changed' },
    ]);
    expect(caseloadChanges([row('a', 'e1', 'x')], [row('a', 'e1', 'x')], new Set(['e2']))).toEqual([]);
  });
});

describe('topic triggers', () => {
  const spec = (topic: string): SubscriptionSpec =>
    ({
      id: 's',
      resourceType: topic === 'caseload-changed' ? 'EpisodeOfCare' : 'Group',
      topic: topicByUrl(`${TOPIC_BASE}${topic}`),
      filters: [],
    }) as unknown as SubscriptionSpec;
  const episode = {
    resourceType: 'EpisodeOfCare' as const,
    id: 'e1',
    status: 'active' as const,
    patient: { reference: 'Patient/p1' },
  };

  it('caseload-changed fires on a caseload row, never on an EpisodeOfCare write by itself', () => {
    const caseloadRow = { team: 'a', episode: 'e1', patient: 'p1', kind: 'changed' as const };
    expect(isEvent(spec('caseload-changed'), { interaction: 'update', current: episode, caseloadRow })).toBe(true);
    expect(isEvent(spec('caseload-changed'), { interaction: 'update', current: episode })).toBe(false);
  });

  it('population-group-changed fires when the current members change, not when an entry closes the same way twice', () => {
    const g = (member: Group['member']): Group => ({ resourceType: 'Group', type: 'person', actual: true, member });
    const one = g([{ entity: { reference: 'Patient/p1' }, period: { start: '2025-01-01' } }]);
    const left = g([
      { entity: { reference: 'Patient/p1' }, period: { start: '2025-01-01', end: '2025-02-01' }, inactive: true },
    ]);
    const s = spec('population-group-changed');
    expect(currentMemberRefs(one)).toEqual(['Patient/p1']);
    expect(currentMemberRefs(left)).toEqual([]);
    expect(isEvent(s, { interaction: 'create', current: one })).toBe(true);
    expect(isEvent(s, { interaction: 'update', previous: one, current: left })).toBe(true);
    expect(isEvent(s, { interaction: 'update', previous: one, current: { ...one, name: 'renamed' } })).toBe(false);
    expect(isEvent(s, { interaction: 'create', current: g([]) })).toBe(false);
    expect(isEvent(s, { interaction: 'delete', previous: one })).toBe(true);
  });
});
