/** The person's timeline: what changed in their record (Patient/{id}/$changes), newest first. */
import { useId } from 'react';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { entries } from '../../fhir/client.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async } from '../../components/Status.tsx';

/** A line about a changed resource: its type and what it is, as far as it says. */
export function summary(r: Resource): string {
  const any = r as Resource & {
    status?: string;
    description?: string | { text?: string };
    title?: string;
    payload?: { contentString?: string }[];
    code?: { text?: string; coding?: { display?: string }[] };
  };
  const what =
    any.title ??
    (typeof any.description === 'string' ? any.description : any.description?.text) ??
    any.payload?.[0]?.contentString ??
    any.code?.text ??
    any.code?.coding?.[0]?.display ??
    '';
  return [
    r.resourceType,
    what && `“${what.length > 80 ? `${what.slice(0, 80)}…` : what}”`,
    any.status && `(${any.status})`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** `refresh`: a change of it re-reads the timeline (a live event). */
export function Timeline({ patientId, refresh = 0 }: { patientId: string; refresh?: number }) {
  const { client } = useApp();
  const id = useId();
  const state = useAsync(async () => {
    const bundle = await client.operation<Bundle>(
      `Patient/${patientId}/$changes`,
      { since: '2000-01-01T00:00:00Z', _count: '100' },
      'GET',
    );
    return entries(bundle).reverse();
  }, [client, patientId, refresh]);
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Timeline</h2>
      <Async state={state} label="Loading the timeline…">
        {(changes) =>
          changes.length ? (
            <ol className="timeline">
              {changes.map((r) => (
                <li key={`${r.resourceType}/${r.id}`}>
                  <time dateTime={r.meta?.lastUpdated}>
                    {new Date(r.meta?.lastUpdated ?? '').toLocaleString('en-GB')}
                  </time>{' '}
                  {summary(r)}
                </li>
              ))}
            </ol>
          ) : (
            <p>Nothing recorded yet.</p>
          )
        }
      </Async>
    </section>
  );
}
