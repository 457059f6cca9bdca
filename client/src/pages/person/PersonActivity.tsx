/**
 * The person's conversation and timeline, kept live: a subscription to communication-posted for this person
 * (filter `Communication?patient=Patient/{id}`, empty payload: no patient data on the wire) makes both re-read
 * through the API as the user when anyone posts a message about them.
 */
import { useState } from 'react';
import { useApp } from '../../app/context.ts';
import { useLive } from '../../fhir/live.ts';
import { Conversation } from './Conversation.tsx';
import { Timeline } from './Timeline.tsx';

export function PersonActivity({ patientId }: { patientId: string }) {
  const { client } = useApp();
  const [refresh, setRefresh] = useState(0);
  const [updated, setUpdated] = useState('');
  const live = useLive(client, 'communication-posted', `Communication?patient=Patient/${patientId}`, () => {
    setUpdated(`Conversation updated at ${new Date().toLocaleTimeString('en-GB')}`);
    setRefresh((n) => n + 1);
  });
  return (
    <div>
      <p className="live" data-state={live}>
        {live === 'live'
          ? 'Live: new messages appear here'
          : live === 'offline'
            ? 'Not live: reload to see new messages'
            : 'Connecting…'}
      </p>
      <p role="status" className="notice">
        {updated}
      </p>
      <Conversation patientId={patientId} refresh={refresh} />
      <Timeline patientId={patientId} refresh={refresh} />
    </div>
  );
}
