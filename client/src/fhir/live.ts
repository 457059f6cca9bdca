/**
 * Live updates over Hearth's subscription websocket (Subscriptions Backport IG, websocket channel): a
 * topic-based Subscription with an `empty` payload (no patient data on the wire; the screen re-reads through
 * the API as the user), a binding token from $get-ws-binding-token, `bind-with-token` on /ws/subscriptions,
 * a fresh binding before the token expires, and the Subscription deleted when the screen closes.
 */
import { useEffect, useRef, useState } from 'react';
import type { Parameters, Subscription } from '@medplum/fhirtypes';
import type { FhirClient } from './client.ts';
import { value } from './parameters.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
export const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/';

export type LiveState = 'connecting' | 'live' | 'offline';

export function liveSubscription(topic: string, filter: string, reason: string): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason,
    criteria: `${TOPIC}${topic}`,
    _criteria: { extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: filter }] },
    channel: {
      type: 'websocket',
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'empty' }] },
    },
  } as Subscription;
}

/** The notification type of a websocket message (a Bundle led by SubscriptionStatus), if it is one. */
export function notificationType(message: string): string | undefined {
  try {
    const bundle = JSON.parse(message) as { entry?: { resource?: Parameters }[] };
    const status = bundle.entry?.[0]?.resource;
    return status?.resourceType === 'Parameters' ? String(value(status.parameter, 'type') ?? '') : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `onEvent` for each event notification of `topic` matching `filter`, while mounted. */
export function useLive(client: FhirClient, topic: string, filter: string | undefined, onEvent: () => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!filter) return;
    let stopped = false;
    let socket: WebSocket | undefined;
    let subscription: string | undefined;
    let rebind: ReturnType<typeof setInterval> | undefined;
    const bindingToken = async () => {
      const p = await client.operation<Parameters>(`Subscription/${subscription}/$get-ws-binding-token`, {}, 'GET');
      return { token: String(value(p.parameter, 'token')), url: String(value(p.parameter, 'websocket-url')) };
    };
    (async () => {
      const created = await client.create(liveSubscription(topic, filter, `Hearth web client: ${topic} live view`));
      subscription = created.id;
      if (stopped) return;
      const { token, url } = await bindingToken();
      socket = new WebSocket(url);
      socket.onopen = () => socket?.send(`bind-with-token ${token}`);
      socket.onmessage = (m) => {
        const type = notificationType(String(m.data));
        if (type === 'handshake') setState('live');
        if (type === 'event-notification') handler.current();
      };
      socket.onclose = () => !stopped && setState('offline');
      // Binding tokens last 10 minutes: bind again with a fresh one before that.
      rebind = setInterval(() => {
        bindingToken().then(
          (b) => socket?.send(`bind-with-token ${b.token}`),
          () => setState('offline'),
        );
      }, 8 * 60_000);
    })().catch(() => !stopped && setState('offline'));
    return () => {
      stopped = true;
      clearInterval(rebind);
      socket?.close();
      if (subscription) client.remove('Subscription', subscription).catch(() => undefined);
    };
  }, [client, topic, filter]);
  return state;
}
