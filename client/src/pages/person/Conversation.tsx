/** The conversation about the person: threads of messages; post, reply (inResponseTo) and mention a colleague. */
import { useId, useState, type FormEvent } from 'react';
import type { Communication } from '@medplum/fhirtypes';
import { useApp } from '../../app/context.ts';
import { entries } from '../../fhir/client.ts';
import { useAsync } from '../../fhir/use-async.ts';
import { Async, ErrorMessage } from '../../components/Status.tsx';
import { mentionsOf, newMessage, threads, type ThreadNode } from './thread.ts';

/** `refresh`: a change of it re-reads the messages (a live event). */
export function Conversation({ patientId, refresh = 0 }: { patientId: string; refresh?: number }) {
  const { client } = useApp();
  const id = useId();
  const state = useAsync(
    async () =>
      threads(
        entries<Communication>(
          await client.search('Communication', { patient: `Patient/${patientId}`, _sort: '-sent', _count: '200' }),
        ),
      ),
    [client, patientId, refresh],
  );
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Conversation</h2>
      <Async state={state} label="Loading messages…">
        {(roots) =>
          roots.length ? (
            <ul className="thread">
              {roots.map((n) => (
                <Message key={n.message.id} node={n} patientId={patientId} onPosted={state.reload} />
              ))}
            </ul>
          ) : (
            <p>No messages yet.</p>
          )
        }
      </Async>
      <Compose patientId={patientId} onPosted={state.reload} label="New message" />
    </section>
  );
}

function Message({ node, patientId, onPosted }: { node: ThreadNode; patientId: string; onPosted: () => void }) {
  const { workspace } = useApp();
  const [replying, setReplying] = useState(false);
  const m = node.message;
  const mentions = mentionsOf(m);
  return (
    <li>
      <article className="message" aria-label={`Message from ${workspace.name(m.sender)}`}>
        <p className="meta">
          <strong>{workspace.name(m.sender) || 'Unknown sender'}</strong>
          {m.sent && <time dateTime={m.sent}> {new Date(m.sent).toLocaleString('en-GB')}</time>}
          {mentions.length > 0 && (
            <span className="tag">mentions {mentions.map((r) => workspace.name(r)).join(', ')}</span>
          )}
        </p>
        {m.payload?.map((p, i) => (
          <p key={i}>{p.contentString ?? p.contentAttachment?.title ?? ''}</p>
        ))}
        <button type="button" className="link" aria-expanded={replying} onClick={() => setReplying(!replying)}>
          Reply
        </button>
        {replying && (
          <Compose
            patientId={patientId}
            replyTo={`Communication/${m.id}`}
            label="Reply"
            onPosted={() => {
              setReplying(false);
              onPosted();
            }}
          />
        )}
      </article>
      {node.replies.length > 0 && (
        <ul className="thread">
          {node.replies.map((r) => (
            <Message key={r.message.id} node={r} patientId={patientId} onPosted={onPosted} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Compose(props: { patientId: string; replyTo?: string; label: string; onPosted: () => void }) {
  const { client, session, workspace } = useApp();
  const id = useId();
  const [text, setText] = useState('');
  const [mention, setMention] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const post = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await client.create(
        newMessage({
          patientId: props.patientId,
          sender: session.practitionerRole ?? session.organization,
          team: workspace.team ? `CareTeam/${workspace.team.id}` : undefined,
          text: text.trim(),
          mention: mention || undefined,
          replyTo: props.replyTo,
        }),
      );
      setText('');
      setMention('');
      props.onPosted();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="compose" onSubmit={post}>
      <label htmlFor={`${id}-text`}>{props.label}</label>
      <textarea id={`${id}-text`} rows={2} value={text} onChange={(e) => setText(e.target.value)} required />
      <label htmlFor={`${id}-mention`}>Mention</label>
      <select id={`${id}-mention`} value={mention} onChange={(e) => setMention(e.target.value)}>
        <option value="">No one</option>
        {workspace.members.map((m) => (
          <option key={m.reference} value={m.reference}>
            {m.display}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy || !text.trim()}>
        {props.replyTo ? 'Send reply' : 'Post'}
      </button>
      {error && <ErrorMessage message={error} />}
    </form>
  );
}
