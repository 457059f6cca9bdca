/**
 * The Task priority score (priority-score.ts) as SQL over the task worklist
 * (task-worklist-sql.ts: one row per Task, kept current on write), registered
 * as the computed search parameter `priority-score` (search/computed.ts), so
 * "my tasks" and "team tasks" sort by it in one query:
 * `Task?owner=…&status=…&_sort=-priority-score`. A search sorted by it also
 * gets each entry's score and reasons (`explain`), from the same formula in
 * TypeScript over the same inputs.
 */
import type { Extension, Resource, Task } from '@medplum/fhirtypes';
import type { ComputedParameter } from '../search/computed.ts';
import { SqlBuilder } from '../search/sql.ts';
import { readPriorityContext } from '../store/priority.ts';
import type { Queryable } from '../store/resources.ts';
import {
  BLOCKING_POINTS,
  DUE_SOON_HOURS,
  DUE_SOON_POINTS,
  OVERDUE_BASE,
  OVERDUE_MAX,
  OVERDUE_PER_DAY,
  PRIORITY_POINTS,
  RISK_POINTS,
  WAITING_MAX,
  WAITING_PER_WEEK,
  priorityScore,
} from './priority-score.ts';
import { OPEN_TASK_STATUSES } from './task-state.ts';

export const PRIORITY_SCORE_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/priority-score';

const cases = (column: string, points: Readonly<Record<string, number>>) =>
  `CASE ${column} ${Object.entries(points)
    .map(([code, n]) => `WHEN '${code}' THEN ${n}`)
    .join(' ')} ELSE 0 END`;

/** Whether the Task of worklist row w is part of an open Task (someone waits on it). */
function blockingSql(sql: SqlBuilder, w: string): string {
  return (
    `EXISTS (SELECT 1 FROM task_worklist p WHERE p.id = ANY(${w}.part_of)` +
    ` AND p.status = ANY(${sql.bind([...OPEN_TASK_STATUSES])}::text[]))`
  );
}

/** The score of the Task whose worklist row is aliased w, at `at`: the row's points, its person's risk, and those that grow with time. */
function scoreOfRow(sql: SqlBuilder, w: string, at: Date): string {
  const now = `${sql.bind(at.toISOString())}::timestamptz`;
  const overdue =
    `CASE WHEN ${w}.due < ${now}` +
    ` THEN LEAST(${OVERDUE_MAX}, ${OVERDUE_BASE} + ${OVERDUE_PER_DAY} * floor(extract(epoch FROM ${now} - ${w}.due) / 86400))` +
    ` WHEN ${w}.due < ${now} + interval '${DUE_SOON_HOURS} hours' THEN ${DUE_SOON_POINTS} ELSE 0 END`;
  const waiting = `COALESCE(LEAST(${WAITING_MAX}, ${WAITING_PER_WEEK} * GREATEST(0, floor(extract(epoch FROM ${now} - ${w}.authored) / 604800))), 0)`;
  const risk = `COALESCE((SELECT ${cases('pr.risk_code', RISK_POINTS)} FROM patient_risk pr WHERE pr.patient_id = ${w}.patient_id), 0)`;
  const blocking = `CASE WHEN cardinality(${w}.part_of) > 0 AND ${blockingSql(sql, w)} THEN ${BLOCKING_POINTS} ELSE 0 END`;
  return `(${cases(`${w}.priority`, PRIORITY_POINTS)} + ${overdue} + ${risk} + ${waiting} + ${blocking})::numeric`;
}

/** The score of the Task aliased r at `at` (0 for a Task with no worklist row: none is current). */
export function priorityScoreSql(sql: SqlBuilder, r: string, at: Date): string {
  return `COALESCE((SELECT ${scoreOfRow(sql, 'w', at)} FROM task_worklist w WHERE w.id = ${r}.id), 0)::numeric`;
}

/** The inputs the score reads that are not in the Task itself: the person's risk, whether it blocks another. */
export function compilePriorityContext(ids: string[]): { text: string; values: unknown[] } {
  const sql = new SqlBuilder();
  const text =
    `SELECT w.id, pr.risk_code, ${blockingSql(sql, 'w')} AS blocking FROM task_worklist w` +
    ` LEFT JOIN patient_risk pr ON pr.patient_id = w.patient_id WHERE w.id = ANY(${sql.bind(ids)}::text[])`;
  return { text, values: sql.values };
}

async function explain(db: Queryable, resources: Resource[], at: Date): Promise<Map<string, Extension>> {
  const tasks = resources.filter((r): r is Task => r.resourceType === 'Task');
  const context = await readPriorityContext(db, compilePriorityContext(tasks.map((t) => t.id!)));
  const out = new Map<string, Extension>();
  for (const task of tasks) {
    const c = context.get(task.id!);
    const end = task.restriction?.period?.end;
    const { score, reasons } = priorityScore(
      {
        priority: task.priority,
        due: end ? new Date(end) : undefined,
        authoredOn: task.authoredOn ? new Date(task.authoredOn) : undefined,
        risk: c?.risk_code ?? undefined,
        blocking: c?.blocking ?? false,
      },
      at,
    );
    out.set(task.id!, {
      url: PRIORITY_SCORE_EXTENSION,
      extension: [
        { url: 'score', valueDecimal: score },
        ...reasons.map((reason) => ({
          url: 'reason',
          extension: [
            { url: 'code', valueCode: reason.code },
            { url: 'points', valueDecimal: reason.points },
            { url: 'text', valueString: reason.text },
          ],
        })),
      ],
    });
  }
  return out;
}

export const priorityScoreParameter: ComputedParameter = {
  resourceType: 'Task',
  code: 'priority-score',
  sql: priorityScoreSql,
  projected: { table: 'task_worklist', sql: scoreOfRow },
  explain,
};
