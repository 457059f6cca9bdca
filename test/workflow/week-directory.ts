/**
 * The neighbourhood of the week-long scenario (week-scenario.test.ts), set up
 * the way a deployment is: the directory written through the FHIR API by a
 * directory administration system, users signed in with the authorization
 * code flow, the GP practice's partner EPR a SMART Backend Services system
 * talking through fhir-kit-client; and a rest-hook receiver's notifications
 * per subscription.
 */
import { Client } from 'fhir-kit-client';
import type { Bundle, Parameters, ParametersParameter, Subscription } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { ADMIN_SCOPE, registerSystem, registerUsers, systemToken, userToken } from '../support/auth.ts';
import type { Receiver } from '../support/receiver.ts';
import { statusValue } from '../support/receiver.ts';
import { FHIR_JSON, putAll, type TestServer } from '../support/server.ts';

export const HEARTH = 'https://hearth.example/fhir';
export const ref = (reference: string) => ({ reference });

/** The people who sign in, each with one role at one organisation. */
export const PEOPLE = {
  gp: { org: 'gp', family: 'Walsh' },
  nurse: { org: 'trust', family: 'Okafor' },
  volunteer: { org: 'charity', family: 'Evans' },
  pharmacist: { org: 'pcn', family: 'Shah' },
  outsider: { org: 'elsewhere', family: 'Lee' },
} as const;
export type Person = keyof typeof PEOPLE;

const PASSWORD = 'correct horse battery staple';
const VOLUNTARY = { coding: [{ system: `${HEARTH}/CodeSystem/organization-type`, code: 'voluntary' }] };

/** Writes the directory as the administration system: organisations, roles, services, the neighbourhood team. */
export async function writeDirectory(s: TestServer): Promise<void> {
  const admin = await systemToken(
    s,
    await registerSystem(s, { clientId: 'directory', scope: ADMIN_SCOPE }),
    ADMIN_SCOPE,
  );
  const service = (id: string, name: string, org: string) => ({
    resourceType: 'HealthcareService',
    id,
    active: true,
    name,
    providedBy: ref(`Organization/${org}`),
  });
  await putAll(s, admin, [
    { resourceType: 'Organization', id: 'gp', active: true, name: 'Hyde Park Surgery' },
    { resourceType: 'Organization', id: 'trust', active: true, name: 'Leeds Community Healthcare' },
    // The restricted role of the access model: a voluntary-sector organisation.
    { resourceType: 'Organization', id: 'charity', active: true, name: 'Carers Leeds', type: [VOLUNTARY] },
    { resourceType: 'Organization', id: 'pcn', active: true, name: 'North Leeds PCN' },
    { resourceType: 'Organization', id: 'elsewhere', active: true, name: 'Another trust' },
    service('community-nursing', 'Community nursing', 'trust'),
    service('ucr', 'Urgent community response', 'trust'),
    service('carer-support', 'Carer support', 'charity'),
    ...Object.entries(PEOPLE).flatMap(([who, { org, family }]) => [
      { resourceType: 'Practitioner', id: who, active: true, name: [{ family }] },
      {
        resourceType: 'PractitionerRole',
        id: `${who}-role`,
        active: true,
        practitioner: ref(`Practitioner/${who}`),
        organization: ref(`Organization/${org}`),
      },
    ]),
    {
      resourceType: 'CareTeam',
      id: 'neighbourhood',
      status: 'active',
      name: 'North Leeds neighbourhood team',
      participant: (['gp', 'nurse', 'volunteer', 'pharmacist'] as const).map((who) => ({
        member: ref(`PractitionerRole/${who}-role`),
      })),
    },
  ]);
}

/** Registers the users and signs each in (authorization code + PKCE): their access tokens. */
export async function signIn(s: TestServer): Promise<Record<Person, string>> {
  await registerUsers(
    s,
    Object.entries(PEOPLE).map(([who, { org }]) => ({
      username: who,
      name: who,
      password: PASSWORD,
      practitioner: `Practitioner/${who}`,
      roles: [{ practitionerRole: `PractitionerRole/${who}-role`, organization: `Organization/${org}` }],
    })),
  );
  const tokens = {} as Record<Person, string>;
  for (const who of Object.keys(PEOPLE) as Person[]) tokens[who] = await userToken(s, who, PASSWORD);
  return tokens;
}

/** The GP practice's EPR: a Backend Services system acting for the practice, through fhir-kit-client. */
export async function gpEpr(s: TestServer): Promise<InstanceType<typeof Client>> {
  const scope = 'system/*.cruds';
  const system = await registerSystem(s, { clientId: 'gp-epr', scope, organization: 'Organization/gp' });
  return new Client({ baseUrl: s.baseUrl, bearerToken: await systemToken(s, system, scope) });
}

/** A user's calls (supertest, with their token). */
export function userApi(s: TestServer, token: string) {
  const auth = { Authorization: `Bearer ${token}` };
  const send = (method: 'post' | 'put', path: string, body: unknown, headers: Record<string, string> = {}) =>
    s.http[method](`/fhir/${path}`).set(auth).set(headers).set('Content-Type', FHIR_JSON).send(JSON.stringify(body));
  return {
    get: (path: string) => s.http.get(`/fhir/${path}`).set(auth),
    post: (path: string, body: unknown) => send('post', path, body),
    put: (path: string, body: unknown, ifMatch?: string) =>
      send('put', path, body, ifMatch ? { 'If-Match': ifMatch } : {}),
    op: (path: string, parameter: ParametersParameter[]) =>
      send('post', path, { resourceType: 'Parameters', parameter } satisfies Parameters),
  };
}

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';

/** A rest-hook, id-only topic subscription with one filter. */
export function topicSubscription(topic: string, filter: string, endpoint: string): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [`${BACKPORT}backport-subscription`] },
    status: 'requested',
    reason: `The community team's ${topic}`,
    criteria: `${HEARTH}/SubscriptionTopic/${topic}`,
    _criteria: { extension: [{ url: `${BACKPORT}backport-filter-criteria`, valueString: filter }] },
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'id-only' }] },
    },
  } as Subscription;
}

/** The event notifications (not handshakes or heartbeats) of one subscription received so far. */
export function notificationsOf(receiver: Receiver, id: string) {
  return receiver.received.filter(
    (r) =>
      r.body &&
      statusValue(r.body, 'subscription')?.endsWith(`/Subscription/${id}`) &&
      statusValue(r.body, 'type') === 'event-notification',
  );
}

export async function waitForNotifications(receiver: Receiver, id: string, count: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (notificationsOf(receiver, id).length < count) {
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} notifications, got ${notificationsOf(receiver, id).length}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return notificationsOf(receiver, id);
}

/** The resources of a searchset. */
export function resources<T>(bundle: Bundle | Record<string, unknown>): T[] {
  return (((bundle as Bundle).entry ?? []) as { resource?: unknown }[]).map((e) => e.resource as T);
}

/** Every parameter of a name in a Parameters answer. */
export function params(body: Parameters | Record<string, unknown>, name: string): ParametersParameter[] {
  const found = ((body as Parameters).parameter ?? []).filter((p) => p.name === name);
  expect(found.length, `parameters named ${name}`).toBeGreaterThan(0);
  return found;
}

/** A part's value by name (reference, string, code, decimal). */
export function partValue(p: ParametersParameter, name: string): string | number | undefined {
  const x = p.part?.find((q) => q.name === name);
  return (
    x?.valueReference?.reference ?? x?.valueString ?? x?.valueCode ?? x?.valueId ?? x?.valueDecimal ?? x?.valueInteger
  );
}
