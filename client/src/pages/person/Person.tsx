/** Screen 3, a person: summary, living care plan, tasks, and the conversation and timeline (live). */
import { useState } from 'react';
import type { Patient } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { humanName, nhsNumber } from '../../fhir/names.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async } from '../../components/Status.tsx';
import { OPEN_STATUSES, taskRows } from '../tasks/priority.ts';
import { TaskList } from '../tasks/TaskList.tsx';
import { CarePlanPanel } from './CarePlanPanel.tsx';
import { PersonActivity } from './PersonActivity.tsx';

export function Person({ id }: { id: string }) {
  const { client } = useApp();
  const state = useAsync(async () => (await client.read<Patient>('Patient', id)).body, [client, id]);
  if (state.error) {
    return (
      <>
        <h1>Person</h1>
        <Async state={state}>{() => null}</Async>
      </>
    );
  }
  return (
    <Async state={state} label="Loading the person…">
      {(patient) => (
        <>
          <h1>{humanName(patient.name) || 'Person'}</h1>
          <dl className="facts summary">
            <dt>Born</dt>
            <dd>{patient.birthDate ? new Date(patient.birthDate).toLocaleDateString('en-GB') : 'not recorded'}</dd>
            <dt>NHS number</dt>
            <dd>{nhsNumber(patient.identifier) ?? 'not recorded'}</dd>
            {patient.gender && (
              <>
                <dt>Gender</dt>
                <dd>{patient.gender}</dd>
              </>
            )}
            {patient.address?.[0]?.postalCode && (
              <>
                <dt>Postcode</dt>
                <dd>{patient.address[0].postalCode}</dd>
              </>
            )}
          </dl>
          <div className="columns">
            <div>
              <CarePlanPanel patientId={id} />
              <PersonTasks patientId={id} />
            </div>
            <PersonActivity patientId={id} />
          </div>
        </>
      )}
    </Async>
  );
}

function PersonTasks({ patientId }: { patientId: string }) {
  const { client } = useApp();
  const [notice, setNotice] = useState('');
  const state = useAsync(
    async () =>
      taskRows(
        await client.search('Task', {
          patient: `Patient/${patientId}`,
          status: OPEN_STATUSES,
          _sort: '-priority-score',
          _count: '50',
        }),
      ),
    [client, patientId],
  );
  return (
    <section aria-labelledby="person-tasks">
      <h2 id="person-tasks">Open tasks</h2>
      <p role="status" className="notice">
        {notice}
      </p>
      <Async state={state} label="Loading tasks…">
        {(rows) => (
          <TaskList
            rows={rows}
            showPerson={false}
            onChanged={(m) => {
              setNotice(m);
              state.reload();
            }}
          />
        )}
      </Async>
    </section>
  );
}
