/** The response clock of a Task (restriction.period.end) in words, and whether it has been breached. */
import type { Task } from '@medplum/fhirtypes';

export const BREACH = 'https://hearth.example/fhir/StructureDefinition/task-breach';

function span(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

export interface Clock {
  text: string;
  state: 'none' | 'ok' | 'soon' | 'overdue';
}

/** "due in 1 h 20 min", "overdue by 3 days"; soon = within 2 hours. A date-only deadline ends that day (UTC). */
export function clockOf(task: Pick<Task, 'restriction' | 'extension'>, now = Date.now()): Clock {
  const end = task.restriction?.period?.end;
  const breached = task.extension?.some((e) => e.url === BREACH);
  if (!end) return breached ? { text: 'overdue', state: 'overdue' } : { text: 'no response clock', state: 'none' };
  const due = /^\d{4}-\d{2}-\d{2}$/.test(end) ? Date.parse(`${end}T23:59:59.999Z`) : Date.parse(end);
  const left = due - now;
  if (left <= 0 || breached) return { text: `overdue by ${span(Math.max(0, -left))}`, state: 'overdue' };
  return { text: `due in ${span(left)}`, state: left <= 2 * 3600_000 ? 'soon' : 'ok' };
}

export function ClockBadge({ task, now }: { task: Pick<Task, 'restriction' | 'extension'>; now?: number }) {
  const clock = clockOf(task, now);
  return <span className={`clock clock-${clock.state}`}>{clock.text}</span>;
}
