/**
 * The Task priority score (priority-score.ts) as SQL over the search index,
 * registered as the computed search parameter `priority-score` (search/
 * computed.ts), so "my tasks" and "team tasks" sort by it in one query:
 * `Task?owner=…&status=…&_sort=-priority-score`. A search sorted by it also
 * gets each entry's score and reasons (`explain`), from the same formula in
 * TypeScript over the same inputs.
 */
import type { Extension, Resource, Task } from '@medplum/fhirtypes';
import type { ComputedParameter } from '../search/computed.ts';
import { indexRowsOf, SqlBuilder } from '../search/sql.ts';
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
import { latestRiskSql } from './risk-sql.ts';
import { OPEN_TASK_STATUSES } from './task-state.ts';

export const PRIORITY_SCORE_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/priority-score';

/** The index rows of `code` of the Task aliased r. */
const own = (alias: string, r: string, code: string) => indexRowsOf(alias, 'Task', `${r}.id`, code);

const cases = (column: string, points: Readonly<Record<string, number>>) =>
  `CASE ${column} ${Object.entries(points)
    .map(([code, n]) => `WHEN '${code}' THEN ${n}`)
    .join(' ')} ELSE 0 END`;

/** Whether the Task aliased r is part of an open Task (someone waits on it). */
function blockingSql(sql: SqlBuilder, r: string): string {
  return (
    `EXISTS (SELECT 1 FROM sp_reference p JOIN sp_token ps ON ps.resource_type = 'Task' AND ps.id = p.target_id` +
    ` AND ps.code = 'status' AND ps.value = ANY(${sql.bind([...OPEN_TASK_STATUSES])}::text[])` +
    ` WHERE ${own('p', r, 'part-of')} AND p.target_type = 'Task')`
  );
}

/** The person's latest risk code, for the Task aliased r. */
function riskSql(r: string): string {
  return (
    `(SELECT risk.risk_code FROM sp_reference f CROSS JOIN LATERAL (${latestRiskSql('f.target_id')}) risk` +
    ` WHERE ${own('f', r, '_patient')} AND f.target_type = 'Patient' LIMIT 1)`
  );
}

export function priorityScoreSql(sql: SqlBuilder, r: string, at: Date): string {
  const now = `${sql.bind(at.toISOString())}::timestamptz`;
  const priority = `COALESCE((SELECT max(${cases('x.value', PRIORITY_POINTS)}) FROM sp_token x WHERE ${own('x', r, 'priority')}), 0)`;
  const due = `(SELECT min(x.lo) FROM sp_date x WHERE ${own('x', r, 'due')})`;
  const overdue =
    `COALESCE((SELECT CASE WHEN d.due < ${now}` +
    ` THEN LEAST(${OVERDUE_MAX}, ${OVERDUE_BASE} + ${OVERDUE_PER_DAY} * floor(extract(epoch FROM ${now} - d.due) / 86400))` +
    ` WHEN d.due < ${now} + interval '${DUE_SOON_HOURS} hours' THEN ${DUE_SOON_POINTS} ELSE 0 END` +
    ` FROM (SELECT ${due} AS due) d), 0)`;
  const risk = `COALESCE(${cases(riskSql(r), RISK_POINTS)}, 0)`;
  const waiting =
    `COALESCE((SELECT LEAST(${WAITING_MAX}, ${WAITING_PER_WEEK} * GREATEST(0, floor(extract(epoch FROM ${now} - min(x.lo)) / 604800)))` +
    ` FROM sp_date x WHERE ${own('x', r, 'authored-on')}), 0)`;
  const blocking = `CASE WHEN ${blockingSql(sql, r)} THEN ${BLOCKING_POINTS} ELSE 0 END`;
  return `(${priority} + ${overdue} + ${risk} + ${waiting} + ${blocking})::numeric`;
}

/** The inputs the SQL reads that are not in the Task itself: the person's risk, whether it blocks another. */
export function compilePriorityContext(ids: string[]): { text: string; values: unknown[] } {
  const sql = new SqlBuilder();
  const text =
    `SELECT r.id, ${riskSql('r')} AS risk_code, ${blockingSql(sql, 'r')} AS blocking FROM resource r` +
    ` WHERE r.resource_type = 'Task' AND r.id = ANY(${sql.bind(ids)}::text[])`;
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
  explain,
};
