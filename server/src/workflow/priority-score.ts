/**
 * The transparent priority score of a Task (issue 7 "Action and outcome"):
 * points for each of five reasons, added up, each reason returned with its
 * points so a person can see why a task ranks where it does.
 *
 * | reason | points |
 * |---|---|
 * | clinical priority (Task.priority) | stat 40, asap 30, urgent 20, routine 0 |
 * | overdue (restriction.period.end passed) | 15, plus 1 per whole day overdue, at most 30 |
 * | due within 24 hours | 5 |
 * | the person's risk (their latest RiskAssessment) | high or certain 20, moderate 10 |
 * | waiting (since authoredOn) | 1 per whole week, at most 10 |
 * | others waiting on it (part of an open Task) | 10 |
 *
 * So 0 to 110. The same formula runs in SQL for `_sort=-priority-score`
 * (priority-score-sql.ts); a test checks that they agree.
 */
export const PRIORITY_POINTS: Readonly<Record<string, number>> = { stat: 40, asap: 30, urgent: 20, routine: 0 };
export const RISK_POINTS: Readonly<Record<string, number>> = { certain: 20, high: 20, moderate: 10 };
export const OVERDUE_BASE = 15;
export const OVERDUE_PER_DAY = 1;
export const OVERDUE_MAX = 30;
export const DUE_SOON_POINTS = 5;
export const DUE_SOON_HOURS = 24;
export const WAITING_PER_WEEK = 1;
export const WAITING_MAX = 10;
export const BLOCKING_POINTS = 10;

const DAY = 86_400_000;
const WEEK = 7 * DAY;

export interface PriorityInputs {
  priority?: string;
  /** restriction.period.end */
  due?: Date;
  authoredOn?: Date;
  /** The person's latest risk-probability code. */
  risk?: string;
  /** Part of a Task still open (someone waits on this one). */
  blocking: boolean;
}

export interface PriorityReason {
  code: 'priority' | 'overdue' | 'due-soon' | 'risk' | 'waiting' | 'blocking';
  points: number;
  text: string;
}

export function priorityScore(inputs: PriorityInputs, now: Date): { score: number; reasons: PriorityReason[] } {
  const reasons: PriorityReason[] = [];
  const add = (code: PriorityReason['code'], points: number, text: string) => {
    if (points > 0) reasons.push({ code, points, text });
  };
  if (inputs.priority) add('priority', PRIORITY_POINTS[inputs.priority] ?? 0, `${inputs.priority} priority`);
  if (inputs.due) {
    const late = now.getTime() - inputs.due.getTime();
    if (late > 0) {
      const days = Math.floor(late / DAY);
      add('overdue', Math.min(OVERDUE_MAX, OVERDUE_BASE + OVERDUE_PER_DAY * days), `overdue by ${describe(late)}`);
    } else if (-late < DUE_SOON_HOURS * 3_600_000) {
      add('due-soon', DUE_SOON_POINTS, `due within ${DUE_SOON_HOURS} hours`);
    }
  }
  if (inputs.risk) add('risk', RISK_POINTS[inputs.risk] ?? 0, `the person's risk is ${inputs.risk}`);
  if (inputs.authoredOn) {
    const weeks = Math.max(0, Math.floor((now.getTime() - inputs.authoredOn.getTime()) / WEEK));
    add('waiting', Math.min(WAITING_MAX, WAITING_PER_WEEK * weeks), `waiting ${weeks} week${weeks === 1 ? '' : 's'}`);
  }
  if (inputs.blocking) add('blocking', BLOCKING_POINTS, 'another task waits on it');
  return { score: reasons.reduce((sum, r) => sum + r.points, 0), reasons };
}

function describe(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return `${Math.floor(ms / DAY)} days`;
}
