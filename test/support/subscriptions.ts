/**
 * Subscriptions for tests over any Hearth node's agent (in-process or a child
 * process): a task-assigned topic subscription filtered on one owner (each
 * Task written with that owner is one event), creating it, waiting for its
 * status, and writing Tasks.
 */
import type { Bundle, Parameters, Subscription, Task } from '@medplum/fhirtypes';
import type supertest from 'supertest';
import { expect } from 'vitest';
import { FHIR_JSON } from './server.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
export const TASK_ASSIGNED = 'https://hearth.example/fhir/SubscriptionTopic/task-assigned';

/**
 * A rest-hook, id-only subscription to Tasks assigned to `owner` (e.g.
 * Organization/x), with at most `maxCount` events per notification if given
 * (else as many as Hearth sends by default).
 */
export function taskAssignedSubscription(endpoint: string, owner: string, maxCount?: number): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason: 'fault test',
    criteria: TASK_ASSIGNED,
    _criteria: { extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: `Task?owner=${owner}` }] },
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'id-only' }] },
      extension: maxCount ? [{ url: `${BACKPORT}backport-max-count`, valuePositiveInt: maxCount }] : undefined,
    },
  } as Subscription;
}

export async function subscribe(http: supertest.Agent, subscription: Subscription): Promise<Subscription> {
  const res = await http.post('/fhir/Subscription').set('Content-Type', FHIR_JSON).send(subscription);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as Subscription;
}

export async function waitForSubscriptionStatus(
  http: supertest.Agent,
  id: string,
  status: string,
  timeoutMs = 20_000,
): Promise<Subscription> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await http.get(`/fhir/Subscription/${id}`);
    if (res.body.status === status) return res.body as Subscription;
    if (Date.now() > deadline) throw new Error(`Subscription/${id} is ${res.body.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Creates (POST) or creates/updates (PUT, when `id` is given) a Task owned
 * by `owner`; the answer's status is returned, not checked.
 */
export async function writeTask(
  http: supertest.Agent,
  owner: string,
  id?: string,
): Promise<{ status: number; task?: Task }> {
  const resource = {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    owner: { reference: owner },
    ...(id ? { id } : {}),
  };
  const res = id
    ? await http.put(`/fhir/Task/${id}`).set('Content-Type', FHIR_JSON).send(resource)
    : await http.post('/fhir/Task').set('Content-Type', FHIR_JSON).send(resource);
  return { status: res.status, task: res.status < 300 ? (res.body as Task) : undefined };
}

/** Creates a Task owned by `owner`, expecting success; its id. */
export async function assignTask(http: supertest.Agent, owner: string): Promise<string> {
  const { status, task } = await writeTask(http, owner);
  expect(status).toBe(201);
  return task!.id!;
}

/** What `$status` says of one subscription: its status and events-since-subscription-start. */
export async function subscriptionStatus(
  http: supertest.Agent,
  id: string,
): Promise<{ status?: string; events?: string }> {
  const res = await http.get(`/fhir/Subscription/${id}/$status`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const parameters = (res.body as Bundle).entry?.[0]?.resource as Parameters | undefined;
  const value = (name: string) => parameters?.parameter?.find((p) => p.name === name);
  return { status: value('status')?.valueCode, events: value('events-since-subscription-start')?.valueString };
}

/** from, from + 1, …, to: the event numbers a subscription should have had. */
export function eventNumbers(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
