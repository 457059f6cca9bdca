/** A person's messages as threads: each message with its replies (inResponseTo) under it, oldest first. */
import type { Communication } from '@medplum/fhirtypes';

export const MENTION = 'https://hearth.example/fhir/StructureDefinition/communication-mention';

export interface ThreadNode {
  message: Communication;
  replies: ThreadNode[];
}

const time = (c: Communication) => Date.parse(c.sent ?? c.meta?.lastUpdated ?? '') || 0;

export function threads(messages: Communication[]): ThreadNode[] {
  const nodes = new Map<string, ThreadNode>();
  for (const m of [...messages].sort((a, b) => time(a) - time(b)))
    nodes.set(`Communication/${m.id}`, { message: m, replies: [] });
  const roots: ThreadNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.message.inResponseTo?.map((r) => nodes.get(r.reference ?? '')).find(Boolean);
    (parent ? parent.replies : roots).push(node);
  }
  return roots;
}

export function mentionsOf(message: Communication): string[] {
  return (message.extension ?? [])
    .filter((e) => e.url === MENTION)
    .map((e) => e.valueReference?.reference)
    .filter((r): r is string => !!r);
}

/** A new message (HearthCommunication): to the team, with anyone mentioned also a recipient (Hearth's rule). */
export function newMessage(input: {
  patientId: string;
  sender?: string;
  team?: string;
  text: string;
  mention?: string;
  replyTo?: string;
  now?: Date;
}): Communication {
  const recipients = [input.team, input.mention].filter((r): r is string => !!r);
  return {
    resourceType: 'Communication',
    status: 'completed',
    sent: (input.now ?? new Date()).toISOString(),
    subject: { reference: `Patient/${input.patientId}` },
    ...(input.sender ? { sender: { reference: input.sender } } : {}),
    ...(recipients.length ? { recipient: [...new Set(recipients)].map((reference) => ({ reference })) } : {}),
    ...(input.mention ? { extension: [{ url: MENTION, valueReference: { reference: input.mention } }] } : {}),
    ...(input.replyTo ? { inResponseTo: [{ reference: input.replyTo }] } : {}),
    payload: [{ contentString: input.text }],
  };
}
