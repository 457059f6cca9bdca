/**
 * Websocket subscriptions (STANDARDS.md §4.2, Backport IG channels.html
 * "websocket"): $get-ws-binding-token answers token, expiration and
 * websocket-url; bind-with-token with a token that is not valid is refused;
 * after bind a handshake arrives, then event notifications in order;
 * R4 criteria subscriptions get `ping <id>`. Two nodes over one database: a
 * write on node A reaches a socket bound on node B.
 */
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters, Subscription } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FHIR_JSON, startTestServer, type TestServer } from '../support/server.ts';
import { eventsOf, statusValue } from '../support/receiver.ts';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/';
const TOPIC = 'https://hearth.example/fhir/SubscriptionTopic/';

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  a = await startTestServer();
  // A second node over the same database, behind the same public base URL (so the harness token is good on both).
  b = await startTestServer({ HEARTH_AUTH: 'on', HEARTH_RATE_LIMIT: '0', HEARTH_BASE_URL: a.baseUrl }, a.databaseUrl);
  b.http.set('Authorization', `Bearer ${a.token}`);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

/** A socket that queues what it receives. */
interface Client {
  socket: WebSocket;
  messages: string[];
  next(timeoutMs?: number): Promise<string>;
}

async function connect(url: string): Promise<Client> {
  const socket = new WebSocket(url);
  const messages: string[] = [];
  const waiting: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(data.toString());
    for (const w of waiting.splice(0)) w();
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let read = 0;
  return {
    socket,
    messages,
    async next(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length <= read) {
        if (Date.now() > deadline) throw new Error(`no message within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiting.push(r);
          setTimeout(r, 100);
        });
      }
      return messages[read++];
    },
  };
}

async function websocketSubscription(s: TestServer, criteria: string, filters: string[] = []): Promise<Subscription> {
  const res = await s.http
    .post('/fhir/Subscription')
    .set('Content-Type', FHIR_JSON)
    .send({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'websocket test',
      criteria,
      ...(filters.length
        ? {
            _criteria: {
              extension: filters.map((f) => ({ url: `${BACKPORT}backport-filter-criteria`, valueString: f })),
            },
          }
        : {}),
      channel: {
        type: 'websocket',
        payload: 'application/fhir+json',
        ...(criteria.startsWith('http')
          ? { _payload: { extension: [{ url: `${BACKPORT}backport-payload-content`, valueCode: 'id-only' }] } }
          : {}),
      },
    });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  // No endpoint to greet: active at once.
  expect(res.body.status).toBe('active');
  return res.body as Subscription;
}

async function bindingToken(s: TestServer, id: string): Promise<Parameters> {
  const res = await s.http.get(`/fhir/Subscription/${id}/$get-ws-binding-token`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Parameters;
}

const value = (p: Parameters, name: string) => {
  const x = p.parameter?.find((q) => q.name === name);
  return x?.valueString ?? x?.valueDateTime ?? x?.valueUrl;
};

const postTask = (s: TestServer, owner: string) =>
  s.http
    .post('/fhir/Task')
    .set('Content-Type', FHIR_JSON)
    .send({ resourceType: 'Task', status: 'requested', intent: 'order', owner: { reference: owner } });

describe('$get-ws-binding-token (Backport IG OperationDefinition-backport-subscription-get-ws-binding-token)', () => {
  it('answers token, expiration, subscription and websocket-url; the CapabilityStatement advertises the websocket', async () => {
    const sub = await websocketSubscription(a, `${TOPIC}task-assigned`, ['Task?owner=Organization/ws-token']);
    const token = await bindingToken(a, sub.id!);
    expect(value(token, 'token')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(Date.parse(value(token, 'expiration')!)).toBeGreaterThan(Date.now());
    expect(value(token, 'subscription')).toBe(sub.id);
    expect(value(token, 'websocket-url')).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/subscriptions$/);
    const metadata = await a.http.get('/fhir/metadata');
    expect(metadata.body.rest[0].extension).toContainEqual({
      url: 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket',
      valueUri: value(token, 'websocket-url'),
    });
  });

  it('refuses a rest-hook subscription', async () => {
    const res = await a.http
      .post('/fhir/Subscription')
      .set('Content-Type', FHIR_JSON)
      .send({
        resourceType: 'Subscription',
        status: 'off',
        reason: 'x',
        criteria: 'Task?status=requested',
        channel: { type: 'rest-hook', endpoint: 'https://partner.example.org/hook' },
      });
    expect(res.status).toBe(201);
    const token = await a.http.get(`/fhir/Subscription/${res.body.id}/$get-ws-binding-token`);
    expect(token.status).toBe(422);
  });
});

describe('bind-with-token (Backport IG channels.html)', () => {
  it('refuses a token that is not valid, and binds with a valid one: handshake, then event notifications in order', async () => {
    const owner = 'Organization/ws-events';
    const sub = await websocketSubscription(a, `${TOPIC}task-assigned`, [`Task?owner=${owner}`]);
    const token = await bindingToken(a, sub.id!);
    const client = await connect(value(token, 'websocket-url')!);
    try {
      client.socket.send('bind-with-token not-a-real-token');
      const refused = JSON.parse(await client.next());
      expect(refused.resourceType).toBe('OperationOutcome');
      expect(refused.issue[0].diagnostics).toMatch(/not valid or has expired/);
      client.socket.send(`bind-with-token ${value(token, 'token')}`);
      const handshake = JSON.parse(await client.next()) as Bundle;
      expect(statusValue(handshake, 'type')).toBe('handshake');
      const t1 = await postTask(a, owner);
      const t2 = await postTask(a, owner);
      const n1 = JSON.parse(await client.next()) as Bundle;
      const got = eventsOf(n1);
      const rest = got.length === 2 ? [] : eventsOf(JSON.parse(await client.next()) as Bundle);
      expect([...got, ...rest]).toEqual([
        { number: 1, focus: `Task/${t1.body.id}` },
        { number: 2, focus: `Task/${t2.body.id}` },
      ]);
      expect(statusValue(n1, 'type')).toBe('event-notification');
    } finally {
      client.socket.close();
    }
  });

  it('pings an R4 criteria subscription by id on a match', async () => {
    const owner = 'Organization/ws-criteria';
    const sub = await websocketSubscription(a, `Task?owner=${owner}`);
    const token = await bindingToken(a, sub.id!);
    const client = await connect(value(token, 'websocket-url')!);
    try {
      client.socket.send(`bind-with-token ${value(token, 'token')}`);
      expect(await client.next()).toBe(`bound ${sub.id}`);
      await postTask(a, owner);
      expect(await client.next()).toBe(`ping ${sub.id}`);
    } finally {
      client.socket.close();
    }
  });
});

describe('two nodes over one database (issue 6, multi-node)', () => {
  it('delivers a write on node A to a socket bound on node B, and a subscription made on A is matched by writes on B', async () => {
    const owner = 'Organization/ws-two-nodes';
    const sub = await websocketSubscription(a, `${TOPIC}task-assigned`, [`Task?owner=${owner}`]);
    const token = await bindingToken(a, sub.id!);
    const { port } = b.app.server.address() as AddressInfo;
    const onB = value(token, 'websocket-url')!.replace(new URL(a.baseUrl).host, `127.0.0.1:${port}`);
    const client = await connect(onB);
    try {
      client.socket.send(`bind-with-token ${value(token, 'token')}`);
      expect(statusValue(JSON.parse(await client.next()) as Bundle, 'type')).toBe('handshake');
      const fromA = await postTask(a, owner);
      expect(eventsOf(JSON.parse(await client.next()) as Bundle)).toEqual([
        { number: 1, focus: `Task/${fromA.body.id}` },
      ]);
      const fromB = await postTask(b, owner);
      expect(fromB.status, JSON.stringify(fromB.body)).toBe(201);
      expect(eventsOf(JSON.parse(await client.next()) as Bundle)).toEqual([
        { number: 2, focus: `Task/${fromB.body.id}` },
      ]);
    } finally {
      client.socket.close();
    }
  });
});
