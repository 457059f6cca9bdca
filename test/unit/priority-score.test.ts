/** The task priority score's formula (workflow/priority-score.ts; issue 7 "Action and outcome"). */
import { describe, expect, it } from 'vitest';
import { priorityScore } from '../../server/src/workflow/priority-score.ts';

const now = new Date('2026-11-23T12:00:00Z');
const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

describe('priorityScore', () => {
  it('is zero for a routine task due next month, just asked for, of a person without risk', () => {
    expect(priorityScore({ priority: 'routine', due: hours(24 * 30), authoredOn: now, blocking: false }, now)).toEqual({
      score: 0,
      reasons: [],
    });
  });

  it('adds clinical priority, overdue days, risk, waiting weeks and blocking, each with its reason', () => {
    const { score, reasons } = priorityScore(
      { priority: 'urgent', due: hours(-(3 * 24 + 5)), authoredOn: hours(-24 * 15), risk: 'high', blocking: true },
      now,
    );
    // urgent 20 + overdue (15 + 3 whole days) 18 + high risk 20 + two whole weeks 2 + blocking 10
    expect(score).toBe(70);
    expect(reasons.map((r) => [r.code, r.points])).toEqual([
      ['priority', 20],
      ['overdue', 18],
      ['risk', 20],
      ['waiting', 2],
      ['blocking', 10],
    ]);
    expect(reasons[1].text).toBe('overdue by 3 days');
  });

  it('caps overdue at 30 and waiting at 10; gives 5 for due within 24 hours; moderate risk 10; stat 40', () => {
    expect(priorityScore({ due: hours(-24 * 100), blocking: false }, now).score).toBe(30);
    expect(priorityScore({ authoredOn: hours(-24 * 7 * 52), blocking: false }, now).score).toBe(10);
    expect(priorityScore({ due: hours(23), blocking: false }, now).score).toBe(5);
    expect(priorityScore({ due: hours(25), blocking: false }, now).score).toBe(0);
    expect(priorityScore({ risk: 'moderate', blocking: false }, now).score).toBe(10);
    expect(priorityScore({ risk: 'low', blocking: false }, now).score).toBe(0);
    expect(priorityScore({ priority: 'stat', blocking: false }, now).score).toBe(40);
    expect(priorityScore({ due: hours(-2), blocking: false }, now).reasons[0].text).toBe('overdue by 2 hours');
  });

  it('counts no waiting for a task authored in the future', () => {
    expect(priorityScore({ authoredOn: hours(24 * 30), blocking: false }, now).score).toBe(0);
  });
});
