/**
 * Screen 4, my tasks and the team's: open Tasks in order of Hearth's priority score
 * (`Task?owner=…&_sort=-priority-score`), each with the reasons for its score; complete with an outcome.
 */
import { useState } from 'react';
import { useApp } from '../../app/context.ts';
import { href } from '../../app/router.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async } from '../../components/Status.tsx';
import { OPEN_STATUSES, taskRows } from './priority.ts';
import { TaskList } from './TaskList.tsx';

export function Tasks({ view }: { view: 'mine' | 'team' }) {
  const { client, session, workspace } = useApp();
  const owners =
    view === 'mine'
      ? [session.practitionerRole, session.practitioner].filter(Boolean)
      : [
          session.organization,
          workspace.team && `CareTeam/${workspace.team.id}`,
          ...workspace.members.map((m) => m.reference),
        ].filter(Boolean);
  const [notice, setNotice] = useState('');
  const state = useAsync(
    async () =>
      owners.length
        ? taskRows(
            await client.search('Task', {
              owner: owners.join(','),
              status: OPEN_STATUSES,
              _sort: '-priority-score',
              _include: 'Task:patient',
              _count: '100',
            }),
          )
        : [],
    [client, view, owners.join()],
  );
  return (
    <>
      <h1>{view === 'mine' ? 'My tasks' : 'Team tasks'}</h1>
      <nav aria-label="Whose tasks" className="tabs">
        <a href={href({ screen: 'tasks', view: 'mine' })} aria-current={view === 'mine' ? 'page' : undefined}>
          My tasks
        </a>
        <a href={href({ screen: 'tasks', view: 'team' })} aria-current={view === 'team' ? 'page' : undefined}>
          Team tasks
        </a>
      </nav>
      <p className="lede">Most pressing first: the score adds up the reasons shown under each task.</p>
      <p role="status" className="notice">
        {notice}
      </p>
      <Async state={state} label="Loading tasks…">
        {(rows) => (
          <TaskList
            rows={rows}
            onChanged={(m) => {
              setNotice(m);
              state.reload();
            }}
          />
        )}
      </Async>
    </>
  );
}
