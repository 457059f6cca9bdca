/**
 * Notification Bundles (Backport IG, backport-subscription-notification-r4),
 * built from numbered events (pure): a `history` Bundle led by the
 * SubscriptionStatus Parameters, then an entry per event focus as the payload
 * content allows (empty: none; id-only: fullUrl and request; full-resource:
 * the resource too). Every entry carries request and response (bdl-3, bdl-4).
 * An event whose focus the subscriber may not see at notification time keeps
 * its number and time and loses its focus and entry (withheld).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { BACKPORT, type PayloadContent } from './spec.ts';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

export interface NotifiedEvent {
  number: number;
  occurred: string;
  focus: { resourceType: string; id: string; versionId: number };
  /** How the focus was written; GET when the event is about it without writing it (a caseload row). */
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'GET';
  /** The focus version, when the payload carries resources and the subscriber may see it. */
  resource?: Resource;
  /** The subscriber may not see the focus now: number and time only. */
  withheld?: boolean;
}

export interface StatusInput {
  baseUrl: string;
  subscriptionId: string;
  topic?: string;
  status: string;
  type: NotificationType;
  eventsSinceStart: number;
  error?: string;
}

/** The SubscriptionStatus (backport-subscription-status-r4) as Parameters. */
export function statusParameters(input: StatusInput, events: NotifiedEvent[], content: PayloadContent): Parameters {
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${input.baseUrl}/Subscription/${input.subscriptionId}` } },
    ...(input.topic ? [{ name: 'topic', valueCanonical: input.topic }] : []),
    { name: 'status', valueCode: input.status },
    { name: 'type', valueCode: input.type },
    { name: 'events-since-subscription-start', valueString: String(input.eventsSinceStart) },
    ...events.map((e) => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(e.number) },
        { name: 'timestamp', valueInstant: e.occurred },
        ...(content !== 'empty' && !e.withheld
          ? [{ name: 'focus', valueReference: { reference: `${e.focus.resourceType}/${e.focus.id}` } }]
          : []),
      ],
    })),
    ...(input.error ? [{ name: 'error', valueCodeableConcept: { text: input.error } }] : []),
  ];
  return {
    resourceType: 'Parameters',
    id: randomUUID(),
    meta: { profile: [`${BACKPORT}backport-subscription-status-r4`] },
    parameter,
  };
}

/** A notification (or $events answer): history Bundle, status first, then the events' foci. */
export function notificationBundle(input: StatusInput, events: NotifiedEvent[], content: PayloadContent): Bundle {
  const status = statusParameters(input, events, content);
  const entries: BundleEntry[] = [
    {
      fullUrl: `urn:uuid:${status.id}`,
      resource: status,
      request: { method: 'GET', url: `Subscription/${input.subscriptionId}/$status` },
      response: { status: '200' },
    },
  ];
  if (content !== 'empty') {
    for (const e of events) {
      if (e.withheld) continue;
      entries.push({
        fullUrl: `${input.baseUrl}/${e.focus.resourceType}/${e.focus.id}`,
        ...(content === 'full-resource' && e.resource ? { resource: e.resource } : {}),
        request: { method: e.method, url: requestUrl(e) },
        response: { status: e.method === 'POST' ? '201' : e.method === 'DELETE' ? '204' : '200' },
      });
    }
  }
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [`${BACKPORT}backport-subscription-notification-r4`] },
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: entries,
  };
}

function requestUrl(e: NotifiedEvent): string {
  return e.method === 'POST' ? e.focus.resourceType : `${e.focus.resourceType}/${e.focus.id}`;
}
