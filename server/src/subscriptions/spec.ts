/**
 * What a Subscription asks for, read and checked (pure): an R4 criteria
 * subscription (criteria = a search URL) or a topic-based one (Backport IG:
 * criteria = a topic canonical, filters in backport-filter-criteria), its
 * channel, payload and timings. A subscription Hearth cannot honour is
 * refused with an OperationOutcome saying why (Backport IG: SHALL reject an
 * unsupported topic, filter, channel or payload).
 */
import { getSearchParameter, parseSearchRequest, type SearchRequest } from '@medplum/core';
import type { Extension, Subscription } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { topicByUrl, type Topic } from './topics.ts';

export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const R5_CONTENT = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Subscription.content';
/** Where a client sets the secret deliveries are signed with (stripped before the Subscription is stored). */
export const SECRET_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/subscription-signing-secret';

/** Events one notification carries at most when the subscription does not say (backport-max-count). */
export const MAX_COUNT = 50;

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export type ChannelType = 'rest-hook' | 'websocket';

export interface SubscriptionSpec {
  id: string;
  status: Subscription['status'];
  /** The topic (topic-based), or undefined for an R4 criteria subscription. */
  topic?: Topic;
  resourceType: string;
  /** Every one must match (criteria, or the topic's filters). */
  filters: SearchRequest[];
  channel: ChannelType;
  endpoint?: string;
  /** channel.header values, as name and value. */
  headers: [string, string][];
  /** channel.payload MIME type; undefined: notifications carry no body (R4 criteria). */
  mimeType?: string;
  content: PayloadContent;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
  maxCount: number;
  /** Subscription.end in ms: no events after it. */
  endsAt?: number;
}

/** Reads a Subscription; throws FhirError when Hearth cannot honour it. */
export function readSpec(subscription: Subscription): SubscriptionSpec {
  const channel = subscription.channel;
  const type = channel?.type;
  if (type !== 'rest-hook' && type !== 'websocket') {
    throw refuse(`Channel type "${type}" is not supported (rest-hook or websocket)`, 'Subscription.channel.type');
  }
  if (type === 'rest-hook' && !channel.endpoint) {
    throw new FhirError('invalid', 'A rest-hook subscription needs channel.endpoint', {
      expression: ['Subscription.channel.endpoint'],
    });
  }
  const topic = subscription.criteria ? topicOf(subscription.criteria) : undefined;
  const mimeType = channel.payload?.trim() || undefined;
  if (mimeType && !/^application\/(fhir\+)?json(\s*;\s*fhirVersion=4\.0)?$/i.test(mimeType)) {
    throw refuse(`Payload type "${mimeType}" is not supported (application/fhir+json)`, 'Subscription.channel.payload');
  }
  const content = contentOf(subscription, topic !== undefined, mimeType);
  const resourceType = topic?.resourceType ?? criteriaType(subscription.criteria);
  const filters = topic
    ? filterCriteria(subscription).map((f) => parseFilter(topic, f))
    : [parseCriteria(subscription.criteria)];
  const ext = (name: string) => channel.extension?.find((e) => e.url === BACKPORT + name);
  return {
    id: subscription.id ?? '',
    status: subscription.status,
    topic,
    resourceType,
    filters,
    channel: type,
    endpoint: channel.endpoint,
    headers: (channel.header ?? []).map(parseHeader),
    mimeType,
    content,
    heartbeatSeconds: ext('backport-heartbeat-period')?.valueUnsignedInt,
    timeoutSeconds: ext('backport-timeout')?.valueUnsignedInt,
    endsAt: subscription.end ? Date.parse(subscription.end) : undefined,
    maxCount: Math.max(
      1,
      ext('backport-max-count')?.valuePositiveInt ?? ext('backport-max-count')?.valueInteger ?? MAX_COUNT,
    ),
  };
}

function topicOf(criteria: string): Topic | undefined {
  if (!/^https?:\/\//.test(criteria)) return undefined;
  const topic = topicByUrl(criteria);
  if (!topic) throw refuse(`Unknown SubscriptionTopic ${criteria}`, 'Subscription.criteria');
  return topic;
}

function contentOf(subscription: Subscription, topicBased: boolean, mimeType: string | undefined): PayloadContent {
  const payload = (subscription.channel as { _payload?: { extension?: Extension[] } } | undefined)?._payload;
  const ext = payload?.extension?.find((e) => e.url === `${BACKPORT}backport-payload-content` || e.url === R5_CONTENT);
  const value = ext?.valueCode;
  if (!topicBased) {
    if (value) throw refuse('Payload content applies to topic-based subscriptions', 'Subscription.channel.payload');
    return mimeType ? 'full-resource' : 'empty';
  }
  if (!mimeType) {
    throw new FhirError('invalid', 'A topic-based subscription needs channel.payload (application/fhir+json)', {
      expression: ['Subscription.channel.payload'],
    });
  }
  if (value === undefined) return 'id-only';
  if (value !== 'empty' && value !== 'id-only' && value !== 'full-resource') {
    throw refuse(
      `Payload content "${value}" is not supported (empty, id-only, full-resource)`,
      'Subscription.channel.payload',
    );
  }
  return value;
}

function filterCriteria(subscription: Subscription): string[] {
  const criteria = (subscription as { _criteria?: { extension?: Extension[] } })._criteria;
  return (criteria?.extension ?? [])
    .filter((e) => e.url === `${BACKPORT}backport-filter-criteria`)
    .map((e) => e.valueString ?? '');
}

/** A filter `[Type?]param[:modifier]=value[&…]` on the topic's resource type. */
function parseFilter(topic: Topic, filter: string): SearchRequest {
  const [head, query] = filter.includes('?') ? filter.split(/\?(.*)/s) : [topic.resourceType, filter];
  if (head !== topic.resourceType) {
    throw refuse(
      `Filter "${filter}" is not on ${topic.resourceType}, the resource of ${topic.url}`,
      'Subscription.criteria',
    );
  }
  const request = parseCriteria(`${topic.resourceType}?${query}`);
  for (const f of request.filters ?? []) {
    if (!topic.filters.includes(f.code)) {
      throw refuse(
        `Topic ${topic.url} cannot be filtered by "${f.code}" (it can by ${topic.filters.join(', ')})`,
        'Subscription.criteria',
      );
    }
  }
  return request;
}

const MODIFIERS = new Set(['', 'not', 'missing', 'exact']);

/** A search URL Hearth can match against a version in memory: known parameters, no chains, sorts or includes. */
function parseCriteria(criteria: string | undefined): SearchRequest {
  const type = criteriaType(criteria);
  const query = criteria!.slice(type.length + 1);
  const params = new URLSearchParams(query);
  for (const [name] of params) {
    const [code, modifier = ''] = name.split(':');
    if (code.startsWith('_') && code !== '_id') {
      throw refuse(`Criteria parameter "${name}" cannot be matched at the time of a change`, 'Subscription.criteria');
    }
    if (code !== '_id' && !isSearchParameter(type, code)) {
      throw refuse(`"${code}" is not a search parameter of ${type}`, 'Subscription.criteria');
    }
    if (!MODIFIERS.has(modifier) || code.includes('.')) {
      throw refuse(
        `Criteria "${name}" (a chain or modifier) cannot be matched at the time of a change`,
        'Subscription.criteria',
      );
    }
  }
  return parseSearchRequest(`${type}?${qualifyReferences(type, params)}`);
}

function criteriaType(criteria: string | undefined): string {
  const type = /^([A-Z][A-Za-z]+)(\?|$)/.exec(criteria ?? '')?.[1];
  if (!type) {
    throw new FhirError(
      'invalid',
      `Criteria "${criteria ?? ''}" is neither a topic canonical nor a search such as Task?owner=…`,
      {
        expression: ['Subscription.criteria'],
      },
    );
  }
  return type;
}

function isSearchParameter(type: string, code: string): boolean {
  return getSearchParameter(type, code) !== undefined;
}

/** `owner=abc` on a parameter with one target type is `owner=Organization/abc` (matched as a typed reference). */
function qualifyReferences(type: string, params: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const [name, value] of params) {
    const sp = getSearchParameter(type, name.split(':')[0]);
    const targets = sp?.type === 'reference' ? (sp.target ?? []) : [];
    const qualified = value
      .split(',')
      .map((v) => {
        if (!targets.length || !/^[A-Za-z0-9\-.]{1,64}$/.test(v)) return v;
        if (targets.length === 1) return `${targets[0]}/${v}`;
        throw new FhirError('invalid', `"${name}=${v}": say which type it refers to (${targets.join(', ')}/${v})`, {
          expression: ['Subscription.criteria'],
        });
      })
      .join(',');
    out.append(name, qualified);
  }
  return out.toString();
}

function parseHeader(header: string): [string, string] {
  const at = header.indexOf(':');
  const name = header.slice(0, at).trim();
  if (at < 1 || !/^[A-Za-z0-9-]+$/.test(name) || /[\r\n]/.test(header)) {
    throw new FhirError('invalid', `channel.header "${header}" is not "Name: value"`, {
      expression: ['Subscription.channel.header'],
    });
  }
  return [name, header.slice(at + 1).trim()];
}

function refuse(message: string, expression: string): FhirError {
  return new FhirError('not-supported', message, { expression: [expression] });
}
