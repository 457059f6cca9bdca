/** A list of Tasks with their person, clock and priority reasons; an open one can be completed with an outcome. */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../../app/context.ts';
import { href } from '../../app/router.ts';
import { humanName } from '../../fhir/names.ts';
import { parameters } from '../../fhir/parameters.ts';
import { ClockBadge } from '../../components/clock.tsx';
import { ErrorMessage } from '../../components/Status.tsx';
import type { TaskRow } from './priority.ts';

const COMPLETABLE = new Set(['accepted', 'ready', 'in-progress', 'on-hold']);

export function TaskList({
  rows,
  onChanged,
  showPerson = true,
}: {
  rows: TaskRow[];
  onChanged: (m: string) => void;
  showPerson?: boolean;
}) {
  if (!rows.length) return <p>No tasks.</p>;
  return (
    <ul className="cards">
      {rows.map((r) => (
        <li key={r.task.id}>
          <TaskCard row={r} onChanged={onChanged} showPerson={showPerson} />
        </li>
      ))}
    </ul>
  );
}

function TaskCard({
  row,
  onChanged,
  showPerson,
}: {
  row: TaskRow;
  onChanged: (m: string) => void;
  showPerson: boolean;
}) {
  const { client, workspace } = useApp();
  const id = useId();
  const { task, patient, priority } = row;
  const [completing, setCompleting] = useState(false);
  const [outcome, setOutcome] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const title = task.description ?? task.code?.text ?? task.code?.coding?.[0]?.display ?? 'Task';
  const complete = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await client.operation(`Task/${task.id}/$complete`, parameters({ name: 'outcome', valueString: outcome.trim() }));
      setCompleting(false);
      onChanged(`Completed: ${title}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="card" aria-labelledby={`${id}-t`}>
      <header>
        <h3 id={`${id}-t`}>{title}</h3>
        {priority.score !== undefined && (
          <span className="score" title="Priority score">
            {priority.score}
            <span className="visually-hidden"> priority points</span>
          </span>
        )}
      </header>
      <p className="sub">
        {showPerson && task.for?.reference?.startsWith('Patient/') && (
          <>
            <a href={href({ screen: 'person', id: task.for.reference.split('/')[1] })}>
              {humanName(patient?.name) || 'Person'}
            </a>
            {' · '}
          </>
        )}
        {task.status}
        {task.priority && ` · ${task.priority}`}
        {task.owner && ` · ${workspace.name(task.owner)}`} · <ClockBadge task={task} />
      </p>
      {priority.reasons.length > 0 && (
        <ul className="reasons" aria-label="Why this priority">
          {priority.reasons.map((r) => (
            <li key={r.code}>
              {r.text} <span className="points">+{r.points}</span>
            </li>
          ))}
        </ul>
      )}
      {COMPLETABLE.has(task.status) && (
        <button type="button" aria-expanded={completing} onClick={() => setCompleting(!completing)}>
          Complete…
        </button>
      )}
      {completing && (
        <form className="panel" onSubmit={complete}>
          <label htmlFor={`${id}-o`}>Outcome</label>
          <textarea id={`${id}-o`} rows={2} required value={outcome} onChange={(e) => setOutcome(e.target.value)} />
          <button type="submit" className="primary" disabled={busy || !outcome.trim()}>
            Complete task
          </button>
        </form>
      )}
      {error && <ErrorMessage message={error} />}
    </article>
  );
}
