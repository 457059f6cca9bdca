/**
 * The Task state machine as a pure rule (STANDARDS.md §3.2 transition table,
 * R4 task.html "Task state machine", Gravity "who sets what").
 */
import type { Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { taskChangeRefusal, TRANSITIONS } from '../../server/src/workflow/task-state.ts';

const task = (status: Task['status'], extra: Partial<Task> = {}): Task => ({
  resourceType: 'Task',
  status,
  intent: 'order',
  ...extra,
});
const kind = (before: Task | undefined, after: Task, side?: { requester: boolean; owner: boolean }) =>
  taskChangeRefusal(before, after, side)?.kind ?? 'ok';

describe('transitions', () => {
  it('allows the table and nothing else', () => {
    const statuses = Object.keys(TRANSITIONS) as Task['status'][];
    for (const from of statuses) {
      for (const to of statuses) {
        const expected = from === to || TRANSITIONS[from].includes(to);
        const after = task(to, { statusReason: { text: 'why' } });
        expect(kind(task(from), after) === 'ok', `${from} -> ${to}`).toBe(expected);
      }
    }
  });

  it('refuses the classic illegal moves', () => {
    expect(kind(task('completed'), task('in-progress'))).toBe('illegal');
    expect(kind(task('rejected'), task('accepted'))).toBe('illegal');
    expect(kind(task('draft'), task('completed'))).toBe('illegal');
  });

  it('lets a new Task start anywhere, and anything go to entered-in-error', () => {
    expect(kind(undefined, task('completed'))).toBe('ok');
    expect(kind(task('completed'), task('entered-in-error'))).toBe('ok');
  });
});

describe('reasons', () => {
  it('needs statusReason.text to move to rejected, cancelled, on-hold or failed', () => {
    for (const [from, to] of [
      ['requested', 'rejected'],
      ['requested', 'cancelled'],
      ['in-progress', 'on-hold'],
      ['in-progress', 'failed'],
    ] as const) {
      expect(kind(task(from), task(to)), `${from} -> ${to}`).toBe('reason');
      expect(kind(task(from), task(to, { statusReason: { text: ' ' } })), `${from} -> ${to} blank`).toBe('reason');
      expect(kind(task(from), task(to, { statusReason: { text: 'not our service' } })), `${from} -> ${to}`).toBe('ok');
    }
  });
});

describe('parties', () => {
  const requester = { requester: true, owner: false };
  const owner = { requester: false, owner: true };

  it('keeps owner moves from the requester and requester moves from the owner', () => {
    expect(kind(task('requested'), task('accepted'), requester)).toBe('wrong-party');
    expect(kind(task('accepted'), task('completed'), requester)).toBe('wrong-party');
    expect(kind(task('requested'), task('accepted'), owner)).toBe('ok');
    expect(kind(task('on-hold'), task('requested'), owner)).toBe('wrong-party');
    expect(kind(task('requested'), task('entered-in-error'), owner)).toBe('wrong-party');
  });

  it('lets either cancel, and a caller on both sides (or neither) make any legal move', () => {
    const why = { statusReason: { text: 'no longer needed' } };
    expect(kind(task('requested'), task('cancelled', why), requester)).toBe('ok');
    expect(kind(task('accepted'), task('cancelled', why), owner)).toBe('ok');
    expect(kind(task('requested'), task('accepted'), { requester: true, owner: true })).toBe('ok');
    expect(kind(task('requested'), task('accepted'), { requester: false, owner: false })).toBe('ok');
  });
});

describe('completion needs an outcome', () => {
  it('refuses completed without output or statusReason.text, after the party rules', () => {
    expect(kind(task('accepted'), task('completed'))).toBe('outcome');
    expect(kind(task('in-progress'), task('completed', { statusReason: { text: '  ' } }))).toBe('outcome');
    expect(kind(task('accepted'), task('completed', { statusReason: { text: 'Seen' } }))).toBe('ok');
    const output = [{ type: { text: 'Outcome' }, valueString: 'Seen' }];
    expect(kind(task('accepted'), task('completed', { output }))).toBe('ok');
    expect(kind(task('accepted'), task('completed'), { requester: true, owner: false })).toBe('wrong-party');
  });

  it('does not hold a new Task recorded as completed, nor one staying completed', () => {
    expect(kind(undefined, task('completed'))).toBe('ok');
    expect(kind(task('completed'), task('completed'))).toBe('ok');
  });
});
