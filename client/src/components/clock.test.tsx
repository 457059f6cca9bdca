import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { BREACH, ClockBadge, clockOf } from './clock.tsx';

const now = Date.parse('2026-11-23T10:00:00Z');
const due = (end: string) => ({ restriction: { period: { end } } });

describe('the response clock', () => {
  it('counts down, warns within two hours, and counts up once overdue', () => {
    expect(clockOf(due('2026-11-23T11:30:00Z'), now)).toEqual({ text: 'due in 1 h 30 min', state: 'soon' });
    expect(clockOf(due('2026-11-24T12:15:00Z'), now)).toEqual({ text: 'due in 26 h 15 min', state: 'ok' });
    expect(clockOf(due('2026-11-30T10:00:00Z'), now)).toEqual({ text: 'due in 7 days', state: 'ok' });
    expect(clockOf(due('2026-11-20T09:00:00Z'), now)).toEqual({ text: 'overdue by 3 days', state: 'overdue' });
  });

  it('ends a date-only deadline at the end of that day (UTC), and trusts the breach mark', () => {
    expect(clockOf(due('2026-11-23'), now).state).toBe('ok');
    expect(clockOf(due('2026-11-22'), now).state).toBe('overdue');
    expect(
      clockOf({ ...due('2026-11-23T12:00:00Z'), extension: [{ url: BREACH, valueDateTime: 'x' }] }, now).state,
    ).toBe('overdue');
    expect(clockOf({}, now)).toEqual({ text: 'no response clock', state: 'none' });
  });

  it('renders as a badge styled by its state', () => {
    render(<ClockBadge task={due('2026-11-20T09:00:00Z')} now={now} />);
    expect(screen.getByText('overdue by 3 days').className).toBe('clock clock-overdue');
  });
});
