/**
 * Screen 5, the MDT: the people for the next meeting with the reasons (CareTeam/{id}/$mdt-list), and the
 * meeting's decisions recorded as tasks on their plans in one step (CareTeam/{id}/$record-mdt-decisions).
 */
import { useState, type FormEvent } from 'react';
import type { Parameters, Patient, Task } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { href } from '../../app/router.ts';
import { entries } from '../../fhir/client.ts';
import { humanName } from '../../fhir/names.ts';
import { partsNamed } from '../../fhir/parameters.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async, ErrorMessage } from '../../components/Status.tsx';
import { decisionsInput, mdtPeople, type Decision, type MdtPerson } from './mdt.ts';

const inAWeek = () => new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10);

export function Mdt() {
  const { client, workspace } = useApp();
  const team = workspace.team;
  const state = useAsync(async () => {
    if (!team) return { people: [] as MdtPerson[], names: new Map<string, string>() };
    const people = mdtPeople(await client.operation<Parameters>(`CareTeam/${team.id}/$mdt-list`, {}, 'GET'));
    const ids = people.map((p) => p.patient.split('/')[1]).filter(Boolean);
    const patients = ids.length
      ? entries<Patient>(await client.search('Patient', { _id: ids.join(','), _count: '500' }))
      : [];
    return { people, names: new Map(patients.map((p) => [`Patient/${p.id}`, humanName(p.name)])) };
  }, [client, team?.id]);
  if (!team) return <ErrorMessage message="You are not a member of a neighbourhood team, so there is no MDT list." />;
  return (
    <>
      <h1>MDT: {team.name}</h1>
      <p className="lede">People for the next meeting: flagged for review, at high risk, or with a breached clock.</p>
      <Async state={state} label="Loading the MDT list…">
        {({ people, names }) =>
          people.length ? (
            <Meeting people={people} names={names} onRecorded={state.reload} />
          ) : (
            <p>No one needs discussing.</p>
          )
        }
      </Async>
    </>
  );
}

function Meeting({
  people,
  names,
  onRecorded,
}: {
  people: MdtPerson[];
  names: Map<string, string>;
  onRecorded: () => void;
}) {
  const { client, workspace, session } = useApp();
  const defaultOwner =
    workspace.members.find((m) => m.reference === session.practitionerRole)?.reference ??
    workspace.members[0]?.reference ??
    '';
  const [decisions, setDecisions] = useState<Decision[]>(() =>
    people.map((p) => ({
      patient: p.patient,
      description: '',
      owner: defaultOwner,
      due: inAWeek(),
      priority: 'routine',
    })),
  );
  const [summary, setSummary] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [recorded, setRecorded] = useState('');
  const edit = (i: number, patch: Partial<Decision>) =>
    setDecisions((ds) => ds.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const chosen = decisions.filter((d) => d.description.trim()).length;
  const record = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await client.operation<Parameters>(
        `CareTeam/${workspace.team!.id}/$record-mdt-decisions`,
        decisionsInput(decisions, summary),
      );
      const tasks = partsNamed(answer.parameter, 'task').map((t) => t.resource as Task);
      setRecorded(
        `Recorded ${tasks.length} decision${tasks.length === 1 ? '' : 's'} as tasks: ${tasks.map((t) => t.description).join('; ')}`,
      );
      setDecisions((ds) => ds.map((d) => ({ ...d, description: '' })));
      onRecorded();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={record}>
      <p role="status" className="notice">
        {recorded}
      </p>
      <ul className="cards">
        {people.map((p, i) => {
          const name = names.get(p.patient) || 'Person';
          const d = decisions[i];
          return (
            <li key={p.patient}>
              <fieldset className="card">
                <legend>
                  <a href={href({ screen: 'person', id: p.patient.split('/')[1] })}>{name}</a>
                </legend>
                <ul className="reasons" aria-label={`Why ${name} is on the list`}>
                  {p.reasons.map((r, k) => (
                    <li key={k}>
                      <span className={`tag reason-${r.code}`}>{r.code}</span> {r.detail}
                    </li>
                  ))}
                </ul>
                <div className="decision">
                  <label>
                    Decision for {name}
                    <input value={d.description} onChange={(e) => edit(i, { description: e.target.value })} />
                  </label>
                  <label>
                    Owner
                    <select value={d.owner} onChange={(e) => edit(i, { owner: e.target.value })}>
                      {workspace.members.map((m) => (
                        <option key={m.reference} value={m.reference}>
                          {m.display}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label>
                    Due
                    <input type="date" value={d.due} onChange={(e) => edit(i, { due: e.target.value })} />
                  </label>
                  <label>
                    Priority
                    <select
                      value={d.priority}
                      onChange={(e) => edit(i, { priority: e.target.value as Decision['priority'] })}
                    >
                      <option>routine</option>
                      <option>urgent</option>
                      <option>asap</option>
                      <option>stat</option>
                    </select>
                  </label>
                </div>
              </fieldset>
            </li>
          );
        })}
      </ul>
      <label className="block">
        Meeting summary (sent to each person&rsquo;s record)
        <textarea rows={2} value={summary} onChange={(e) => setSummary(e.target.value)} />
      </label>
      {error && <ErrorMessage message={error} />}
      <button type="submit" className="primary" disabled={busy || chosen === 0}>
        Record {chosen || ''} decision{chosen === 1 ? '' : 's'}
      </button>
    </form>
  );
}
