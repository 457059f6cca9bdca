/**
 * The pure parts of subscriptions: reading a Subscription (Backport IG
 * conformance.html: refuse what cannot be honoured), topic triggers and
 * filters (matcher), notification Bundles (notifications.html, payloads.html)
 * and the endpoint policy (allow-list and internal address ranges).
 */
import type { Subscription, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { FhirError } from '../../server/src/fhir/errors.ts';
import { addressAllowed, checkEndpoint } from '../../server/src/subscriptions/endpoints.ts';
import { isEvent } from '../../server/src/subscriptions/matcher.ts';
import { notificationBundle } from '../../server/src/subscriptions/notification.ts';
import { readSpec } from '../../server/src/subscriptions/spec.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/';

// Before the describe blocks below read their subscriptions.
loadDefinitions();

function topicSubscription(topic: string, filters: string[], extra: Partial<Subscription> = {}): Subscription {
  return {
    resourceType: 'Subscription',
    id: 's1',
    status: 'requested',
    reason: 'unit',
    criteria: `${TOPIC}${topic}`,
    _criteria: { extension: filters.map((f) => ({ url: `${BACKPORT}backport-filter-criteria`, valueString: f })) },
    channel: {
      type: 'rest-hook',
      endpoint: 'https://partner.example.org/hook',
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'full-resource' }] },
    },
    ...extra,
  } as Subscription;
}

const r4 = (criteria: string): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'unit',
  criteria,
  channel: { type: 'rest-hook', endpoint: 'https://partner.example.org/hook', payload: 'application/fhir+json' },
});
const task = (extra: Partial<Task>): Task => ({ resourceType: 'Task', status: 'requested', intent: 'order', ...extra });
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof FhirError ? `${error.status} ${error.message}` : String(error);
  }
  return 'accepted';
};

describe('readSpec', () => {
  it('reads a topic subscription: topic, filters, channel, content, timings', () => {
    const spec = readSpec(
      topicSubscription('task-assigned', ['Task?owner=Organization/a'], {
        end: '2030-01-01T00:00:00Z',
      }),
    );
    expect(spec.topic?.url).toBe(`${TOPIC}task-assigned`);
    expect(spec.resourceType).toBe('Task');
    expect(spec.content).toBe('full-resource');
    expect(spec.filters).toHaveLength(1);
    expect(spec.maxCount).toBe(50);
    expect(spec.endsAt).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });

  it('qualifies a bare id for a parameter with one target type, and refuses one with several', () => {
    const spec = readSpec(topicSubscription('care-plan-changed', ['patient=p1']));
    expect(spec.filters[0].filters?.[0].value).toBe('Patient/p1');
    expect(refusal(() => readSpec(topicSubscription('task-assigned', ['owner=x'])))).toMatch(/^400 .*say which type/);
  });

  it('refuses what it cannot honour, saying why', () => {
    expect(refusal(() => readSpec(topicSubscription('nope', [])))).toMatch(/^400 Unknown SubscriptionTopic/);
    expect(refusal(() => readSpec(topicSubscription('task-assigned', ['Task?intent=order'])))).toMatch(
      /cannot be filtered by "intent"/,
    );
    expect(refusal(() => readSpec(topicSubscription('task-assigned', ['Task?description=x'])))).toMatch(
      /"description" is not a search parameter of Task/,
    );
    expect(refusal(() => readSpec(r4('Task?owner:Organization.name=x')))).toMatch(/chain or modifier/);
    expect(refusal(() => readSpec(r4('Task?_has:X:y:z=1')))).toMatch(/cannot be matched/);
    const email = topicSubscription('task-assigned', []);
    email.channel = { ...email.channel, type: 'email' };
    expect(refusal(() => readSpec(email))).toMatch(/Channel type "email" is not supported/);
  });
});

describe('topics and the matcher', () => {
  const assigned = readSpec(topicSubscription('task-assigned', ['Task?owner=Organization/a']));
  const completed = readSpec(topicSubscription('task-completed', []));
  const triaged = readSpec(topicSubscription('referral-triaged', []));
  const criteria = readSpec(r4('Task?status=requested'));

  it('task-assigned: a new owner that matches the filter, not an unchanged or other one', () => {
    const a = task({ owner: { reference: 'Organization/a' } });
    expect(isEvent(assigned, { interaction: 'create', current: a })).toBe(true);
    expect(isEvent(assigned, { interaction: 'update', previous: a, current: { ...a, description: 'x' } })).toBe(false);
    expect(
      isEvent(assigned, { interaction: 'create', current: task({ owner: { reference: 'Organization/b' } }) }),
    ).toBe(false);
  });

  it('task-completed: only the change into completed', () => {
    const open = task({});
    const done = task({ status: 'completed' });
    expect(isEvent(completed, { interaction: 'update', previous: open, current: done })).toBe(true);
    expect(isEvent(completed, { interaction: 'update', previous: done, current: done })).toBe(false);
  });

  it('referral-triaged: a referral Task whose triage state becomes accepted', () => {
    const code = { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] };
    const state = (s: string) => ({
      coding: [{ system: 'https://hearth.example/fhir/CodeSystem/triage-outcome', code: s }],
    });
    const before = task({ code, businessStatus: state('awaiting-triage') });
    expect(
      isEvent(triaged, {
        interaction: 'update',
        previous: before,
        current: { ...before, businessStatus: state('accepted') },
      }),
    ).toBe(true);
    expect(isEvent(triaged, { interaction: 'update', previous: before, current: before })).toBe(false);
    expect(
      isEvent(triaged, {
        interaction: 'update',
        previous: task({}),
        current: task({ businessStatus: state('accepted') }),
      }),
    ).toBe(false);
  });

  it('R4 criteria: the new version matches; never a delete; nothing after the end', () => {
    const t = task({});
    expect(isEvent(criteria, { interaction: 'create', current: t })).toBe(true);
    expect(isEvent(criteria, { interaction: 'delete', previous: t })).toBe(false);
    expect(isEvent({ ...criteria, endsAt: 1000 }, { interaction: 'create', current: t }, 2000)).toBe(false);
  });
});

describe('notification bundles', () => {
  const input = {
    baseUrl: 'https://hearth.example/fhir',
    subscriptionId: 's1',
    topic: `${TOPIC}task-assigned`,
    status: 'active',
    type: 'event-notification' as const,
    eventsSinceStart: 7,
  };
  const event = {
    number: 7,
    occurred: '2026-11-23T10:00:00.000Z',
    focus: { resourceType: 'Task', id: 't1', versionId: 2 },
    method: 'PUT' as const,
    resource: task({ id: 't1' }),
  };

  it('is a history Bundle led by the status, whose entries all carry request and response', () => {
    const bundle = notificationBundle(input, [event], 'full-resource');
    expect(bundle.type).toBe('history');
    expect(bundle.entry?.[0].request).toEqual({ method: 'GET', url: 'Subscription/s1/$status' });
    expect(bundle.entry?.[1]).toMatchObject({
      request: { method: 'PUT', url: 'Task/t1' },
      response: { status: '200' },
    });
    expect(bundle.entry?.[1].resource).toMatchObject({ id: 't1' });
  });

  it('withholds the focus and entry of an event the owner may not see, keeping its number', () => {
    const bundle = notificationBundle(input, [{ ...event, resource: undefined, withheld: true }], 'full-resource');
    expect(bundle.entry).toHaveLength(1);
    const parts = bundle.entry![0].resource!.resourceType === 'Parameters' ? bundle.entry![0].resource!.parameter : [];
    const notified = parts?.find((p) => p.name === 'notification-event');
    expect(notified?.part?.map((p) => p.name)).toEqual(['event-number', 'timestamp']);
  });
});

describe('endpoint policy', () => {
  const open = { allowedEndpoints: [], allowLoopback: false };
  const listed = { allowedEndpoints: ['https://10.1.2.3/hooks/'], allowLoopback: false };

  it('takes https, http only to loopback when allowed, and no credentials in the URL', () => {
    expect(refusal(() => checkEndpoint('https://partner.example.org/hook', open))).toBe('accepted');
    expect(refusal(() => checkEndpoint('http://partner.example.org/hook', open))).toMatch(/^422 .*must be https/);
    expect(refusal(() => checkEndpoint('http://127.0.0.1:9/hook', open))).toMatch(/^422/);
    expect(refusal(() => checkEndpoint('http://127.0.0.1:9/hook', { ...open, allowLoopback: true }))).toBe('accepted');
    expect(refusal(() => checkEndpoint('https://u:p@partner.example.org/', open))).toMatch(/credentials/);
    expect(refusal(() => checkEndpoint('https://other.example.org/', listed))).toMatch(/not under an address/);
  });

  it('connects to internal ranges only under a listed prefix, and to loopback only when allowed', () => {
    for (const address of ['10.0.0.5', '192.168.1.1', '172.16.0.1', '169.254.169.254', 'fd00::1', '::ffff:10.0.0.1']) {
      expect(addressAllowed(address, 'https://internal.example/', open), address).toBe(false);
    }
    expect(addressAllowed('10.1.2.3', 'https://10.1.2.3/hooks/a', listed)).toBe(true);
    expect(addressAllowed('127.0.0.1', 'https://x/', open)).toBe(false);
    expect(addressAllowed('127.0.0.1', 'https://x/', { ...open, allowLoopback: true })).toBe(true);
    expect(addressAllowed('93.184.216.34', 'https://example.org/', open)).toBe(true);
    expect(addressAllowed('93.184.216.34', 'https://example.org/', listed)).toBe(false);
  });
});
