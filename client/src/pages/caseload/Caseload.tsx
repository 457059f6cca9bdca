/**
 * Screen 2, the caseload: the team's people with care coordinator, risk, next task and last contact;
 * filters and sortable columns; updated without reload when anyone changes the caseload (the
 * caseload-changed topic, filtered on this team, over the subscription websocket).
 */
import { useState } from 'react';
import type { Parameters } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { href } from '../../app/router.ts';
import { useLive } from '../../fhir/live.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async, ErrorMessage } from '../../components/Status.tsx';
import { caseloadParams, caseloadRows, nextSort, SORTS, type CaseloadQuery } from './rows.ts';

const date = (d?: string) => (d ? new Date(d).toLocaleDateString('en-GB') : '—');

export function Caseload() {
  const { client, workspace } = useApp();
  const team = workspace.team;
  const [query, setQuery] = useState<CaseloadQuery>({ sort: 'name', risk: '', overdue: '', coordinator: '' });
  const [updated, setUpdated] = useState('');
  const state = useAsync(
    async () =>
      caseloadRows(await client.operation<Parameters>(`CareTeam/${team!.id}/$caseload`, caseloadParams(query), 'GET')),
    [client, team?.id, JSON.stringify(query)],
  );
  const live = useLive(client, 'caseload-changed', team ? `EpisodeOfCare?team=CareTeam/${team.id}` : undefined, () => {
    setUpdated(`Caseload updated at ${new Date().toLocaleTimeString('en-GB')}`);
    state.reload();
  });
  if (!team)
    return <ErrorMessage message="You are not a member of a neighbourhood team, so there is no caseload to show." />;
  const set = (patch: Partial<CaseloadQuery>) => setQuery((q) => ({ ...q, ...patch }));
  const sortKey = query.sort.replace(/^-/, '');
  return (
    <>
      <h1>Caseload: {team.name}</h1>
      <p className="live" data-state={live}>
        {live === 'live'
          ? 'Live: changes by colleagues appear here'
          : live === 'offline'
            ? 'Not live: reload to see changes'
            : 'Connecting…'}
      </p>
      <p role="status" className="notice">
        {updated}
      </p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the caseload">
        <label>
          Risk{' '}
          <select value={query.risk} onChange={(e) => set({ risk: e.target.value })}>
            <option value="">Any</option>
            <option value="high">High</option>
            <option value="moderate">Moderate</option>
            <option value="low">Low</option>
          </select>
        </label>
        <label>
          Tasks{' '}
          <select value={query.overdue} onChange={(e) => set({ overdue: e.target.value as CaseloadQuery['overdue'] })}>
            <option value="">Any</option>
            <option value="true">Overdue</option>
            <option value="false">None overdue</option>
          </select>
        </label>
        <label>
          Care coordinator{' '}
          <select value={query.coordinator} onChange={(e) => set({ coordinator: e.target.value })}>
            <option value="">Anyone</option>
            {workspace.members.map((m) => (
              <option key={m.reference} value={m.reference}>
                {m.display}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Async state={state} label="Loading the caseload…">
        {({ total, rows }) => (
          <table className="grid">
            <caption>
              {total} {total === 1 ? 'person' : 'people'}
            </caption>
            <thead>
              <tr>
                {SORTS.map((s) => (
                  <th
                    key={s.key}
                    scope="col"
                    aria-sort={
                      sortKey === s.key ? (query.sort.startsWith('-') ? 'descending' : 'ascending') : undefined
                    }
                  >
                    <button type="button" className="sort" onClick={() => set({ sort: nextSort(query.sort, s.key) })}>
                      {s.label}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.patientId}>
                  <th scope="row">
                    <a href={href({ screen: 'person', id: r.patientId })}>{r.name}</a>
                    {r.birthDate && <span className="sub">born {date(r.birthDate)}</span>}
                  </th>
                  <td>{r.coordinator ? workspace.name(r.coordinator) || r.coordinatorName : '—'}</td>
                  <td>{r.risk ? <span className={`risk risk-${r.risk}`}>{r.risk}</span> : '—'}</td>
                  <td>{r.openTasks}</td>
                  <td>
                    {date(r.nextDue)}
                    {r.overdue && <span className="clock clock-overdue"> overdue</span>}
                    {r.nextTaskText && <span className="sub">{r.nextTaskText}</span>}
                  </td>
                  <td>{date(r.lastContact)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
    </>
  );
}
