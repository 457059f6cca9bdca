/**
 * The four triage decisions on a referral Task, each one click (with its one required input): accept onto the
 * caseload with a care coordinator, redirect to another service, decline, or ask the referrer for information.
 */
import { useId, useState, type FormEvent } from 'react';
import type { Task } from '@medplum/fhirtypes';
import type { FhirClient } from '../../fhir/client.ts';
import { parameters } from '../../fhir/parameters.ts';
import type { Option } from '../../fhir/workspace.ts';
import { ErrorMessage } from '../../components/Status.tsx';

type Action = 'accept' | 'redirect' | 'reject' | 'request-information';

export interface TriageProps {
  client: FhirClient;
  task: Task;
  members: Option[];
  defaultCoordinator?: string;
  team?: string;
  destinations: Option[];
  onDone: (message: string) => void;
}

/** The operation's Parameters for an action and what the user gave. */
export function triageInput(
  action: Action,
  input: { coordinator?: string; team?: string; to?: string; text?: string },
) {
  switch (action) {
    case 'accept':
      return parameters(
        { name: 'careCoordinator', valueReference: { reference: input.coordinator } },
        ...(input.team ? [{ name: 'team', valueReference: { reference: input.team } }] : []),
      );
    case 'redirect':
      return parameters(
        { name: 'to', valueReference: { reference: input.to } },
        { name: 'reason', valueString: input.text },
      );
    case 'reject':
      return parameters({ name: 'reason', valueString: input.text });
    case 'request-information':
      return parameters({ name: 'question', valueString: input.text });
  }
}

const DONE: Record<Action, string> = {
  accept: 'Accepted: the person is on the caseload.',
  redirect: 'Redirected.',
  reject: 'Declined; the referrer has been told.',
  'request-information': 'Question sent to the referrer.',
};

export function TriageActions({ client, task, members, defaultCoordinator, team, destinations, onDone }: TriageProps) {
  const id = useId();
  const [open, setOpen] = useState<Action>();
  const [coordinator, setCoordinator] = useState(defaultCoordinator ?? members[0]?.reference ?? '');
  const [to, setTo] = useState(destinations[0]?.reference ?? '');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const untriaged = task.status === 'requested' || task.status === 'received';

  const run = async (action: Action) => {
    setBusy(true);
    setError(undefined);
    try {
      await client.operation(`Task/${task.id}/$${action}`, triageInput(action, { coordinator, team, to, text }));
      setOpen(undefined);
      setText('');
      onDone(DONE[action]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const submit = (action: Action) => (e: FormEvent) => {
    e.preventDefault();
    void run(action);
  };

  return (
    <div className="actions">
      <form className="inline" onSubmit={submit('accept')}>
        <label htmlFor={`${id}-coord`}>Care coordinator</label>
        <select id={`${id}-coord`} value={coordinator} onChange={(e) => setCoordinator(e.target.value)}>
          {members.map((m) => (
            <option key={m.reference} value={m.reference}>
              {m.display}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={busy || !coordinator || !untriaged}>
          Accept
        </button>
      </form>
      <div className="buttons">
        {(['redirect', 'reject', 'request-information'] as const).map((a) => (
          <button
            key={a}
            type="button"
            aria-expanded={open === a}
            aria-controls={`${id}-${a}`}
            disabled={busy || (!untriaged && a !== 'request-information') || task.status === 'on-hold'}
            onClick={() => setOpen(open === a ? undefined : a)}
          >
            {a === 'redirect' ? 'Redirect…' : a === 'reject' ? 'Decline…' : 'Request information…'}
          </button>
        ))}
      </div>
      {open && (
        <form id={`${id}-${open}`} className="panel" onSubmit={submit(open)}>
          {open === 'redirect' && (
            <p>
              <label htmlFor={`${id}-to`}>Redirect to</label>
              <select id={`${id}-to`} value={to} onChange={(e) => setTo(e.target.value)}>
                {destinations.map((d) => (
                  <option key={d.reference} value={d.reference}>
                    {d.display}
                  </option>
                ))}
              </select>
            </p>
          )}
          <p>
            <label htmlFor={`${id}-text`}>
              {open === 'request-information' ? 'Question for the referrer' : 'Reason'}
            </label>
            <textarea id={`${id}-text`} required value={text} onChange={(e) => setText(e.target.value)} rows={2} />
          </p>
          <button type="submit" className="primary" disabled={busy || !text.trim()}>
            {open === 'redirect' ? 'Redirect' : open === 'reject' ? 'Decline' : 'Send question'}
          </button>
        </form>
      )}
      {error && <ErrorMessage message={error} />}
    </div>
  );
}
