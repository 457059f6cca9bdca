/**
 * Mentions (docs/workflow-intake.md "Mentions"): someone singled out in a
 * message is named in the `communication-mention` extension and is also one
 * of its recipients, so everything that goes by recipient (search, $unread,
 * subscriptions filtered on recipient) reaches them. A mention that is not a
 * recipient is a 422 on every write path (business-rule), nothing written.
 */
import type { Communication, Extension, Reference, Resource } from '@medplum/fhirtypes';
import { HEARTH_CANONICAL } from '@hearth/fhir-profiles';
import { FhirError } from '../fhir/errors.ts';
import { localKey } from '../fhir/reference.ts';
import type { WriteRule } from '../repository/observer.ts';

export const MENTION_URL = `${HEARTH_CANONICAL}/StructureDefinition/communication-mention`;

const key = (ref: Reference | undefined) => localKey(ref?.reference) ?? ref?.reference;

/** The mentions of a message that are not among its recipients (Type/id or the reference as written). */
export function mentionsNotRecipients(message: Communication): string[] {
  const recipients = new Set((message.recipient ?? []).map(key));
  return (message.extension ?? [])
    .filter((e: Extension) => e.url === MENTION_URL)
    .map((e) => key(e.valueReference) ?? '(a mention without a reference)')
    .filter((m) => !recipients.has(m));
}

export const communicationRules: WriteRule = {
  types: new Set(['Communication']),
  async check(_previous: Resource | undefined, next: Resource): Promise<void> {
    const missing = mentionsNotRecipients(next as Communication);
    if (!missing.length) return;
    throw new FhirError(
      'business-rule',
      `Everyone mentioned is also a recipient: add ${missing.join(', ')} to Communication.recipient`,
      { expression: ['Communication.recipient'] },
    );
  },
};
