/**
 * Reading a BaRS message (STANDARDS.md §1.3, §1.4), pure and in the order
 * BaRS checks it: the Bundle (type message, MessageHeader first, meta.versionId
 * present and supported, meta.lastUpdated on every resource), the
 * MessageHeader (event, reason, one destination), then the rules of the
 * event: a new referral, or the cancellation of one.
 */
import type {
  Bundle,
  BundleEntry,
  CarePlan,
  Encounter,
  MessageHeader,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { MessageReceipt } from '../../store/bars-messages.ts';
import { parseReferenceTarget } from '../../fhir/reference.ts';
import { barsError } from './errors.ts';
import { MESSAGE_EVENTS, MESSAGE_REASONS } from './definitions.ts';

const CATEGORY = 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest';

export interface Message {
  bundle: Bundle;
  header: MessageHeader;
  event: string;
  reason?: string;
  /** MessageHeader.destination.endpoint split into its system and service id. */
  destination: { system: string; serviceId: string; receiver?: Reference };
}

export type MessageAction = 'referral' | 'cancellation' | 'response';

/** What a message says about itself, read defensively (for the audit record of any message, malformed or not). */
export function receiptOf(body: unknown): MessageReceipt {
  const bundle = body as Bundle | undefined;
  const header = bundle?.entry?.[0]?.resource as MessageHeader | undefined;
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    bundleId: text(bundle?.id),
    event: text(header?.eventCoding?.code),
    reason: text(header?.reason?.coding?.[0]?.code),
    sourceEndpoint: text(header?.source?.endpoint),
  };
}

/** The Bundle and MessageHeader checks: 400 (invalid, invariant) or 422 not-supported for an unknown version. */
export function readMessage(body: unknown, versions: readonly string[]): Message {
  const bundle = body as Bundle;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') {
    throw barsError('invalid', 'invalid', 'The body of $process-message must be a Bundle');
  }
  if (bundle.type !== 'message') {
    throw barsError('invalid', 'invalid', `The Bundle must be of type message, not "${bundle.type}"`, ['Bundle.type']);
  }
  if (!bundle.id) {
    throw barsError('invalid', 'invariant', 'Bundle.id (set by the sender, kept in later messages) is required', [
      'Bundle.id',
    ]);
  }
  const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
  if (header?.resourceType !== 'MessageHeader') {
    throw barsError('invalid', 'invalid', 'The first entry of a message Bundle must be its MessageHeader', [
      'Bundle.entry[0]',
    ]);
  }
  const version = bundle.meta?.versionId;
  if (!version) {
    throw barsError('invalid', 'invariant', 'Bundle.meta.versionId (the BaRS Application version) is required', [
      'Bundle.meta.versionId',
    ]);
  }
  if (!versions.includes(version)) {
    throw barsError(
      'processing',
      'not-supported',
      `BaRS Application version ${version} is not supported here (supported: ${versions.join(', ')})`,
      ['Bundle.meta.versionId'],
    );
  }
  bundle.entry!.forEach((e, i) => {
    const at = `Bundle.entry[${i}]`;
    if (!e.resource) throw barsError('invalid', 'invalid', `${at} has no resource`, [at]);
    const lastUpdated = e.resource.meta?.lastUpdated;
    if (!lastUpdated || Number.isNaN(instantMillis(lastUpdated))) {
      throw barsError(
        'invalid',
        'invariant',
        `${at} (${e.resource.resourceType}) needs meta.lastUpdated (an instant)`,
        [`${at}.resource.meta.lastUpdated`],
      );
    }
  });
  const event = header.eventCoding;
  if (event?.system !== MESSAGE_EVENTS || !event.code) {
    throw barsError('invalid', 'invariant', `MessageHeader.eventCoding must be a code of ${MESSAGE_EVENTS}`, [
      'MessageHeader.eventCoding',
    ]);
  }
  const reason = header.reason?.coding?.find((c) => c.system === MESSAGE_REASONS)?.code;
  if (header.destination?.length !== 1) {
    throw barsError('invalid', 'invariant', 'MessageHeader must have exactly one destination', [
      'MessageHeader.destination',
    ]);
  }
  const [destination] = header.destination;
  const endpoint = destination.endpoint ?? '';
  const bar = endpoint.lastIndexOf('|');
  if (bar <= 0 || bar === endpoint.length - 1) {
    throw barsError(
      'invalid',
      'invariant',
      `MessageHeader.destination.endpoint must be <system>|<service id>, e.g. https://fhir.nhs.uk/Id/dos-service-id|2000099999; got "${endpoint}"`,
      ['MessageHeader.destination.endpoint'],
    );
  }
  return {
    bundle,
    header,
    event: event.code,
    reason,
    destination: { system: endpoint.slice(0, bar), serviceId: endpoint.slice(bar + 1), receiver: destination.receiver },
  };
}

/** What the message asks for, from its event and reason (§1.4): 400 invariant when they make no sense, 422 for bookings. */
export function actionOf(message: Message): MessageAction {
  const { event, reason } = message;
  if (event === 'servicerequest-request') {
    if (reason === 'new') return 'referral';
    if (reason === 'update' || reason === 'delete') return 'cancellation';
    throw barsError(
      'invalid',
      'invariant',
      `MessageHeader.reason must be new, update or delete (${MESSAGE_REASONS}) for servicerequest-request`,
      ['MessageHeader.reason'],
    );
  }
  if (event === 'servicerequest-response') return 'response';
  if (event === 'booking-request' || event === 'booking-response') {
    throw barsError('processing', 'not-supported', `Hearth takes no bookings (${event}); it receives referrals`, [
      'MessageHeader.eventCoding',
    ]);
  }
  throw barsError('invalid', 'invariant', `Unknown BaRS event "${event}"`, ['MessageHeader.eventCoding']);
}

/** The entry a reference in the message points at (by fullUrl, or Type/id of an entry's resource). */
export function resolve(bundle: Bundle, reference: Reference | undefined): BundleEntry | undefined {
  const ref = reference?.reference;
  if (!ref) return undefined;
  const byUrl = bundle.entry?.find((e) => e.fullUrl === ref);
  if (byUrl) return byUrl;
  const target = parseReferenceTarget(ref);
  return target
    ? bundle.entry?.find((e) => e.resource?.resourceType === target.resourceType && e.resource.id === target.id)
    : undefined;
}

/** The message's focus: its ServiceRequest (400 invariant when the focus is not one in the message). */
export function focusRequest(message: Message): BundleEntry & { resource: ServiceRequest } {
  const entry = resolve(message.bundle, message.header.focus?.[0]);
  if (entry?.resource?.resourceType !== 'ServiceRequest') {
    throw barsError('invalid', 'invariant', 'MessageHeader.focus must reference the ServiceRequest in the message', [
      'MessageHeader.focus',
    ]);
  }
  return entry as BundleEntry & { resource: ServiceRequest };
}

/**
 * A new referral (§1.4): ServiceRequest active, intent plan, category
 * referral; its CarePlan completed; its Encounter triaged or finished.
 */
export function checkNewReferral(message: Message, sr: ServiceRequest): void {
  const rule = (ok: boolean, text: string, expression: string) => {
    if (!ok) throw barsError('invalid', 'invariant', text, [expression]);
  };
  rule(
    sr.status === 'active',
    `A new referral's ServiceRequest must be active, not ${sr.status}`,
    'ServiceRequest.status',
  );
  rule(sr.intent === 'plan', `A BaRS ServiceRequest's intent is plan, not ${sr.intent}`, 'ServiceRequest.intent');
  const category = sr.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === CATEGORY)?.code;
  rule(
    category === 'referral',
    `ServiceRequest.category must carry ${CATEGORY}#referral (got ${category ?? 'none'}): Hearth receives referrals`,
    'ServiceRequest.category',
  );
  const carePlan = (resolve(message.bundle, sr.basedOn?.[0]) ?? only(message.bundle, 'CarePlan'))?.resource as
    CarePlan | undefined;
  rule(
    carePlan?.status === 'completed',
    `A referral's CarePlan must be completed (got ${carePlan?.status})`,
    'CarePlan.status',
  );
  const encounter = (resolve(message.bundle, sr.encounter) ?? only(message.bundle, 'Encounter'))?.resource as
    Encounter | undefined;
  rule(
    encounter?.status === 'triaged' || encounter?.status === 'finished',
    `A referral's Encounter must be triaged or finished (got ${encounter?.status})`,
    'Encounter.status',
  );
}

/** A cancellation (§1.4): the ServiceRequest revoked or entered-in-error, naming the Hearth ServiceRequest it cancels. */
export function cancellationOf(entry: BundleEntry & { resource: ServiceRequest }): {
  id: string;
  status: 'revoked' | 'entered-in-error';
  lastUpdated: string;
} {
  const sr = entry.resource;
  if (sr.status !== 'revoked' && sr.status !== 'entered-in-error') {
    throw barsError(
      'invalid',
      'invariant',
      `A cancellation's ServiceRequest must be revoked or entered-in-error, not ${sr.status}`,
      ['ServiceRequest.status'],
    );
  }
  const fromUrl = entry.fullUrl ? parseReferenceTarget(entry.fullUrl) : undefined;
  const id = sr.id ?? (fromUrl?.resourceType === 'ServiceRequest' ? fromUrl.id : undefined);
  if (!id) {
    throw barsError('invalid', 'invariant', "A cancellation's ServiceRequest must carry the id Hearth gave it", [
      'ServiceRequest.id',
    ]);
  }
  return { id, status: sr.status, lastUpdated: sr.meta!.lastUpdated! };
}

function only(bundle: Bundle, type: string): BundleEntry | undefined {
  const found = bundle.entry?.filter((e) => e.resource?.resourceType === type) ?? [];
  return found.length === 1 ? found[0] : undefined;
}

/**
 * An instant as milliseconds since the epoch, whatever its offset and with up
 * to 9 fractional digits (BaRS allows 7; JavaScript reads 3); NaN when it is not one.
 */
export function instantMillis(instant: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(instant);
  if (!m) return NaN;
  return Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}`);
}

/** Whether the stored version is newer than the one the sender changed (BaRS: then 409 conflict). */
export function changedSince(storedLastUpdated: string, senderLastUpdated: string): boolean {
  return instantMillis(storedLastUpdated) > instantMillis(senderLastUpdated);
}
