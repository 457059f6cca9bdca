/**
 * Response clocks as pure rules (workflow/response-clock.ts; DESIGN.md "urgent
 * community response within 2 hours"): the deadline from category, priority
 * and service; HEARTH_RESPONSE_CLOCKS parsed and checked; and the pending
 * deadline the breach watch indexes (workflow/deadline.ts).
 */
import fs from 'node:fs';
import type { CodeSystem, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLOCKS,
  parseDuration,
  parseResponseClocks,
  REFERRAL_CATEGORIES,
  responseDeadline,
} from '../../server/src/workflow/response-clock.ts';
import { deadlineInstant, pendingDeadline } from '../../server/src/workflow/deadline.ts';
import { TASK_BREACH_EXTENSION } from '../../server/src/subscriptions/topics.ts';

const START = '2026-11-23T09:00:00.000Z';
const plus = (ms: number) => new Date(Date.parse(START) + ms).toISOString();
const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('the deadline', () => {
  const clocks = parseResponseClocks(undefined);

  it('gives urgent community response two hours whatever the priority', () => {
    const ucr = { start: START, categories: ['urgent-community-response'] };
    expect(responseDeadline({ ...ucr, priority: 'routine' }, clocks).end).toBe(plus(2 * HOUR));
    expect(responseDeadline({ ...ucr, priority: 'urgent' }, clocks).end).toBe(plus(2 * HOUR));
    expect(responseDeadline(ucr, clocks).basis).toEqual({ key: 'urgent-community-response', table: 'default' });
  });

  it('falls back to the priority (routine when none): urgent 24h, asap 3d, routine 14d, stat 2h', () => {
    const at = (priority?: string) => responseDeadline({ start: START, priority, categories: ['step-up'] }, clocks).end;
    expect(at('urgent')).toBe(plus(24 * HOUR));
    expect(at('asap')).toBe(plus(3 * DAY));
    expect(at('routine')).toBe(plus(14 * DAY));
    expect(at('stat')).toBe(plus(2 * HOUR));
    expect(at(undefined)).toBe(plus(14 * DAY));
    expect(at('not-a-priority')).toBe(plus(14 * DAY));
  });

  it("takes a service's own clock before the default, a category before a priority, the shortest category", () => {
    const configured = parseResponseClocks(
      JSON.stringify({
        default: { routine: 'P7D', 'step-up': 'PT4H' },
        'Organization/lcn': { urgent: 'PT6H', 'community-nursing': 'P1D' },
      }),
    );
    const deadline = (owner: string | undefined, priority: string, categories: string[]) =>
      responseDeadline({ start: START, owner, priority, categories }, configured);
    expect(deadline(undefined, 'routine', []).end).toBe(plus(7 * DAY));
    expect(deadline('Organization/lcn', 'urgent', []).basis).toEqual({ key: 'urgent', table: 'Organization/lcn' });
    expect(deadline('Organization/lcn', 'urgent', []).end).toBe(plus(6 * HOUR));
    // A default category beats the service's priority; the service's category beats both.
    expect(deadline('Organization/lcn', 'urgent', ['step-up']).end).toBe(plus(4 * HOUR));
    expect(deadline('Organization/lcn', 'urgent', ['community-nursing']).end).toBe(plus(DAY));
    expect(deadline('Organization/other', 'urgent', ['step-up', 'urgent-community-response']).end).toBe(plus(2 * HOUR));
    // Built-in defaults stay unless overridden.
    expect(deadline(undefined, 'asap', []).end).toBe(plus(3 * DAY));
  });
});

describe('HEARTH_RESPONSE_CLOCKS', () => {
  it('is optional: the built-in clocks', () => {
    expect(parseResponseClocks('')).toEqual({ default: DEFAULT_CLOCKS, services: {} });
  });

  it('refuses what it cannot honour, saying what', () => {
    expect(() => parseResponseClocks('{')).toThrow(/not JSON/);
    expect(() => parseResponseClocks('[]')).toThrow(/object/);
    expect(() => parseResponseClocks('{"Team/x": {}}')).toThrow(/service reference/);
    expect(() => parseResponseClocks('{"default": {"soon": "PT1H"}}')).toThrow(/"soon" is neither a priority/);
    expect(() => parseResponseClocks('{"default": {"urgent": 3600}}')).toThrow(/duration/);
    expect(() => parseResponseClocks('{"default": {"urgent": "2 hours"}}')).toThrow(/ISO 8601/);
  });

  it('reads ISO 8601 durations', () => {
    expect(parseDuration('PT2H')).toBe(2 * HOUR);
    expect(parseDuration('P3D')).toBe(3 * DAY);
    expect(parseDuration('P1W')).toBe(7 * DAY);
    expect(parseDuration('P1DT2H30M')).toBe(DAY + 2.5 * HOUR);
    expect(parseDuration('PT2.5S')).toBe(2500);
    for (const bad of ['P', 'PT', 'PT0S', '2H', 'P1H']) expect(() => parseDuration(bad), bad).toThrow();
  });

  it('knows every Hearth referral category (terminology.fsh)', () => {
    const file = new URL(
      '../../fhir-profiles/fsh-generated/resources/CodeSystem-referral-category.json',
      import.meta.url,
    );
    const codeSystem = JSON.parse(fs.readFileSync(file, 'utf8')) as CodeSystem;
    expect([...REFERRAL_CATEGORIES].sort()).toEqual(codeSystem.concept!.map((c) => c.code).sort());
  });
});

describe('the pending deadline (what the breach watch waits for)', () => {
  const task = (extra: Partial<Task>): Task => ({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    ...extra,
  });
  const due = (end: string) => ({ restriction: { period: { end } } });

  it('is the end of an open, unmarked Task: a dateTime at that instant, a date at the end of the day', () => {
    expect(pendingDeadline(task(due('2026-11-23T11:00:00Z')))).toBe('2026-11-23T11:00:00.000Z');
    expect(pendingDeadline(task(due('2026-11-23')))).toBe('2026-11-23T23:59:59.999Z');
    expect(deadlineInstant('not a date')).toBeUndefined();
  });

  it('is none for a closed or already marked Task, or one without an end', () => {
    expect(pendingDeadline(task({ ...due('2026-11-23'), status: 'completed' }))).toBeUndefined();
    const marked = { url: TASK_BREACH_EXTENSION, valueDateTime: '2026-11-23' };
    expect(pendingDeadline(task({ ...due('2026-11-23'), extension: [marked] }))).toBeUndefined();
    expect(pendingDeadline(task({}))).toBeUndefined();
  });
});
