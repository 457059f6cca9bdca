import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '@medplum/fhirtypes';
import { FhirError, type FhirClient } from '../../fhir/client.ts';
import { TriageActions } from './TriageActions.tsx';

afterEach(cleanup);

const task: Task = { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order' };
const members = [
  { reference: 'PractitionerRole/nurse', display: 'Sam Okafor' },
  { reference: 'PractitionerRole/matron', display: 'Kim Lee' },
];
const destinations = [{ reference: 'Organization/charity', display: 'Carers Network' }];

function setUp(operation = vi.fn(async () => ({}))) {
  const onDone = vi.fn();
  const client = { operation } as unknown as FhirClient;
  render(
    <TriageActions
      client={client}
      task={task}
      members={members}
      defaultCoordinator="PractitionerRole/matron"
      team="CareTeam/team"
      destinations={destinations}
      onDone={onDone}
    />,
  );
  return { operation, onDone };
}

describe('triage actions', () => {
  it('accepts in one click with the preselected coordinator and the team', async () => {
    const { operation, onDone } = setUp();
    expect((screen.getByLabelText('Care coordinator') as HTMLSelectElement).value).toBe('PractitionerRole/matron');
    fireEvent.click(screen.getByRole('button', { name: 'Accept' }));
    await waitFor(() => expect(onDone).toHaveBeenCalledWith('Accepted: the person is on the caseload.'));
    expect(operation).toHaveBeenCalledWith('Task/t1/$accept', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'careCoordinator', valueReference: { reference: 'PractitionerRole/matron' } },
        { name: 'team', valueReference: { reference: 'CareTeam/team' } },
      ],
    });
  });

  it('declines only with a reason, sent as the operation’s reason', async () => {
    const { operation } = setUp();
    fireEvent.click(screen.getByRole('button', { name: 'Decline…' }));
    const send = screen.getByRole('button', { name: 'Decline' });
    expect((send as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'Not our area' } });
    fireEvent.click(send);
    await waitFor(() =>
      expect(operation).toHaveBeenCalledWith('Task/t1/$reject', {
        resourceType: 'Parameters',
        parameter: [{ name: 'reason', valueString: 'Not our area' }],
      }),
    );
  });

  it('redirects to the chosen service with a reason', async () => {
    const { operation } = setUp();
    fireEvent.click(screen.getByRole('button', { name: 'Redirect…' }));
    fireEvent.change(screen.getByLabelText('Reason'), { target: { value: 'Carer support fits better' } });
    fireEvent.click(screen.getByRole('button', { name: 'Redirect' }));
    await waitFor(() =>
      expect(operation).toHaveBeenCalledWith('Task/t1/$redirect', {
        resourceType: 'Parameters',
        parameter: [
          { name: 'to', valueReference: { reference: 'Organization/charity' } },
          { name: 'reason', valueString: 'Carer support fits better' },
        ],
      }),
    );
  });

  it('shows the server’s OperationOutcome when an action is refused, and keeps the card', async () => {
    const { onDone } = setUp(
      vi.fn(async () => {
        throw new FhirError(422, 'A Task that is accepted cannot be rejected');
      }),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Request information…' }));
    fireEvent.change(screen.getByLabelText('Question for the referrer'), { target: { value: 'Which anticoagulant?' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send question' }));
    expect((await screen.findByRole('alert')).textContent).toContain('A Task that is accepted cannot be rejected');
    expect(onDone).not.toHaveBeenCalled();
  });
});
