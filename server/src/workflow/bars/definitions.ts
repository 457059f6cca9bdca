/**
 * The BaRS messages Hearth receives, as MessageDefinitions (installed at
 * start, searchable with `context=https://fhir.nhs.uk/Id/dos-service-id|<id>`
 * for each hosted service, listed in the CapabilityStatement's
 * messaging.supportedMessage), and the check of a message's resources against
 * the definition it declares (focus min/max per resource type), pure.
 */
import type { Bundle, MessageDefinition } from '@medplum/fhirtypes';
import { barsError } from './errors.ts';

export const MESSAGE_EVENTS = 'https://fhir.nhs.uk/CodeSystem/message-events-bars';
export const MESSAGE_REASONS = 'https://fhir.nhs.uk/CodeSystem/message-reason-bars';
/** The standard OperationDefinition Hearth's $process-message implements. */
export const PROCESS_MESSAGE_DEFINITION = 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message';
export const DOS_SERVICE_ID = 'https://fhir.nhs.uk/Id/dos-service-id';
const DEFINITION_BASE = 'https://fhir.nhs.uk/MessageDefinition/';
const USAGE_CONTEXT_TYPE = 'http://terminology.hl7.org/CodeSystem/usage-context-type';
const UKCORE = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-';
const BARS = 'https://fhir.nhs.uk/StructureDefinition/';

export type MessageKind = 'referral' | 'cancellation';

interface Focus {
  code: string;
  profile: string;
  min: number;
  max: string;
}

export interface SupportedMessage {
  kind: MessageKind;
  id: string;
  url: string;
  title: string;
  description: string;
  focus: Focus[];
}

const f = (code: string, min: number, max: string, profile = `${UKCORE}${code}`): Focus => ({
  code,
  profile,
  min,
  max,
});

const HEADER = [
  f('Bundle', 1, '1', `${BARS}BARSBundleMessage`),
  f('MessageHeader', 1, '1', `${BARS}BARSMessageHeader-servicerequest-request`),
];

export const SUPPORTED_MESSAGES: readonly SupportedMessage[] = [
  {
    kind: 'referral',
    id: 'bars-message-servicerequest-request-referral',
    url: `${DEFINITION_BASE}bars-message-servicerequest-request-referral`,
    title: 'BaRS referral request, as Hearth receives it',
    description:
      'A new referral (event servicerequest-request, reason new) to a service Hearth hosts: a ServiceRequest ' +
      '(status active, intent plan, category referral) with its Patient, triaged or finished Encounter, completed ' +
      'CarePlan, sender and receiver Organizations, requesting Practitioner and PractitionerRole, Consent and the ' +
      'receiving HealthcareService. Hearth records it and a referral Task (code fulfill) owned by the service. ' +
      'No Task may be sent: Hearth makes its own.',
    focus: [
      ...HEADER,
      f('ServiceRequest', 1, '1', `${BARS}BARSServiceRequest-request-referral`),
      f('Patient', 1, '1'),
      f('Encounter', 1, '1'),
      f('CarePlan', 1, '1'),
      f('Location', 0, '*'),
      f('Organization', 2, '*'),
      f('Practitioner', 1, '*'),
      f('PractitionerRole', 1, '*'),
      f('Observation', 0, '*'),
      f('Flag', 0, '*', 'http://hl7.org/fhir/StructureDefinition/Flag'),
      f('MedicationStatement', 0, '*'),
      f('AllergyIntolerance', 0, '*'),
      f('Questionnaire', 0, '*'),
      f('QuestionnaireResponse', 0, '*'),
      f('Consent', 1, '*'),
      f('HealthcareService', 1, '*'),
      f('Condition', 0, '*'),
      f('Procedure', 0, '*'),
      f('RelatedPerson', 0, '*'),
      f('DocumentReference', 0, '*'),
    ],
  },
  {
    kind: 'cancellation',
    id: 'bars-message-servicerequest-request-cancelled',
    url: `${DEFINITION_BASE}bars-message-servicerequest-request-cancelled`,
    title: 'BaRS referral cancellation, as Hearth receives it',
    description:
      'The cancellation of a referral Hearth holds (event servicerequest-request, reason update or delete): the ' +
      'ServiceRequest with its Hearth id, status revoked or entered-in-error and the meta.lastUpdated of the version ' +
      'the sender read, the Patient and the Organizations. Only an active referral is cancelled; its referral Task ' +
      'is cancelled (or marked entered-in-error) with it.',
    focus: [
      ...HEADER,
      f('ServiceRequest', 1, '1', `${BARS}BARSServiceRequest-request-referral`),
      f('Patient', 1, '1'),
      f('Organization', 2, '*'),
    ],
  },
];

/** The supported message a MessageHeader.definition names (a version after `|` ignored). */
export function supportedMessage(definition: string | undefined): SupportedMessage | undefined {
  const url = definition?.split('|')[0];
  return SUPPORTED_MESSAGES.find((m) => m.url === url);
}

/** Hearth's MessageDefinitions: each message, in the context of every hosted service (DoS id). */
export function messageDefinitions(services: readonly string[]): MessageDefinition[] {
  return SUPPORTED_MESSAGES.map((m) => ({
    resourceType: 'MessageDefinition',
    id: m.id,
    url: m.url,
    name: m.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    title: m.title,
    status: 'active',
    date: '2026-11-01',
    publisher: 'Hearth',
    description: m.description,
    useContext: services.map((id) => ({
      code: { system: USAGE_CONTEXT_TYPE, code: 'workflow' },
      valueCodeableConcept: { coding: [{ system: DOS_SERVICE_ID, code: id }] },
    })),
    eventCoding: { system: MESSAGE_EVENTS, code: 'servicerequest-request' },
    focus: m.focus.map((x) => ({ code: x.code as 'Bundle', profile: x.profile, min: x.min, max: x.max })),
  }));
}

/**
 * Throws 422 unless the message has every resource type the definition
 * requires (as often as it allows) and nothing it does not list.
 */
export function checkAgainstDefinition(message: Bundle, definition: SupportedMessage): void {
  const counts = new Map<string, number>([['Bundle', 1]]);
  for (const e of message.entry ?? []) {
    const type = e.resource?.resourceType;
    if (type) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  const allowed = new Map<string, { min: number; max: number }>();
  for (const x of definition.focus) {
    const a = allowed.get(x.code) ?? { min: 0, max: 0 };
    allowed.set(x.code, { min: a.min + x.min, max: a.max + (x.max === '*' ? Infinity : Number(x.max)) });
  }
  for (const [type, { min, max }] of allowed) {
    const n = counts.get(type) ?? 0;
    if (n < min) {
      throw barsError(
        'processing',
        'required',
        `The message lacks ${min === 1 ? 'a' : `${min - n} more`} ${type}: ${definition.url} requires ${min}`,
        ['Bundle.entry'],
      );
    }
    if (n > max) {
      throw barsError('processing', 'processing', `The message has ${n} ${type}; ${definition.url} allows ${max}`, [
        'Bundle.entry',
      ]);
    }
  }
  for (const type of counts.keys()) {
    if (!allowed.has(type)) {
      throw barsError('processing', 'not-supported', `${definition.url} does not allow a ${type} in the message`, [
        'Bundle.entry',
      ]);
    }
  }
}
