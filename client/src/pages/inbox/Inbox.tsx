/** Screen 1, the team inbox: referrals to triage with their structured content and response clock. */
import { useState } from 'react';
import { useApp } from '../../app/context.ts';
import { href } from '../../app/router.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { humanName } from '../../fhir/names.ts';
import { Async } from '../../components/Status.tsx';
import { ClockBadge } from '../../components/clock.tsx';
import { loadReferrals, triageState, type Referral } from './referrals.ts';
import { TriageActions } from './TriageActions.tsx';

export function Inbox() {
  const { client, workspace, session } = useApp();
  const owners = [...workspace.me, ...(workspace.team ? [`CareTeam/${workspace.team.id}`] : [])];
  const state = useAsync(() => loadReferrals(client, owners), [client, owners.join()]);
  const [notice, setNotice] = useState('');
  const done = (message: string) => {
    setNotice(message);
    state.reload();
  };
  return (
    <>
      <h1>Team inbox</h1>
      <p className="lede">Referrals to your role, organisation and team waiting for triage, most urgent clock first.</p>
      <p role="status" className="notice">
        {notice}
      </p>
      <Async state={state} label="Loading referrals…">
        {(referrals) =>
          referrals.length === 0 ? (
            <p>No referrals waiting.</p>
          ) : (
            <ul className="cards">
              {referrals.map((r) => (
                <li key={r.task.id}>
                  <ReferralCard referral={r} onDone={done} me={session.practitionerRole} />
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </>
  );
}

function ReferralCard({ referral, onDone, me }: { referral: Referral; onDone: (m: string) => void; me?: string }) {
  const { client, workspace } = useApp();
  const { task, request, patient } = referral;
  const name = humanName(patient?.name) || task.for?.display || 'Unknown person';
  const category = request?.category?.flatMap((c) => c.coding ?? []).map((c) => c.display ?? c.code);
  const reasons = request?.reasonCode?.map((c) => c.text ?? c.coding?.[0]?.display).filter(Boolean);
  const coordinator = workspace.members.some((m) => m.reference === me) ? me : undefined;
  return (
    <article className="card" aria-labelledby={`ref-${task.id}`}>
      <header>
        <h2 id={`ref-${task.id}`}>
          {patient?.id ? <a href={href({ screen: 'person', id: patient.id })}>{name}</a> : name}
        </h2>
        <ClockBadge task={task} />
      </header>
      <dl className="facts">
        <dt>Priority</dt>
        <dd>{task.priority ?? request?.priority ?? 'routine'}</dd>
        <dt>State</dt>
        <dd>{triageState(task)}</dd>
        {category?.length ? (
          <>
            <dt>Category</dt>
            <dd>{category.join(', ')}</dd>
          </>
        ) : null}
        <dt>Reason</dt>
        <dd>{reasons?.join('; ') || task.description || 'Not given'}</dd>
        <dt>From</dt>
        <dd>{workspace.name(task.requester)}</dd>
        {task.authoredOn && (
          <>
            <dt>Received</dt>
            <dd>{new Date(task.authoredOn).toLocaleString('en-GB')}</dd>
          </>
        )}
        {task.note?.length ? (
          <>
            <dt>Note</dt>
            <dd>{task.note.map((n) => n.text).join(' ')}</dd>
          </>
        ) : null}
        {task.statusReason?.text && (
          <>
            <dt>Asked</dt>
            <dd>{task.statusReason.text}</dd>
          </>
        )}
      </dl>
      <TriageActions
        client={client}
        task={task}
        members={workspace.members}
        defaultCoordinator={coordinator}
        team={workspace.team ? `CareTeam/${workspace.team.id}` : undefined}
        destinations={workspace.organizations.filter((o) => !workspace.me.includes(o.reference))}
        onDone={onDone}
      />
    </article>
  );
}
