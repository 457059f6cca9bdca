/**
 * A rest-hook receiver for fault tests: it keeps its port while it is down
 * (connections refused) and up again, records every POST that reaches it
 * (also one it holds without answering, as a receiver that took a
 * notification in but whose answer was lost), and answers with the status the
 * test sets, or holds the request open ('hold') until it goes down or closes.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Bundle } from '@medplum/fhirtypes';
import { eventsOf, statusValue } from './receiver.ts';

export interface Arrival {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body?: Bundle;
  at: number;
  /** The status it was answered with, or 'held' (never answered). */
  answered: number | 'held';
}

export interface FaultReceiver {
  url: string;
  arrivals: Arrival[];
  /** What to answer the next POSTs with. */
  answer: number | 'hold';
  /** Called as each POST arrives, before it is answered (or held). */
  onArrival?: (arrival: Arrival) => void;
  /** Stops listening: connections are refused (held requests are cut off). */
  down(): Promise<void>;
  /** Listens again, on the same port. */
  up(): Promise<void>;
  /** Polls until `done()` holds; throws with `what` (and what arrived) after the timeout. */
  waitUntil(done: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultReceiver(): Promise<FaultReceiver> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const answer = receiver.answer;
      const arrival: Arrival = {
        headers: req.headers,
        raw,
        body: raw ? (JSON.parse(raw) as Bundle) : undefined,
        at: Date.now(),
        answered: answer === 'hold' ? 'held' : answer,
      };
      receiver.arrivals.push(arrival);
      receiver.onArrival?.(arrival);
      if (answer !== 'hold') res.writeHead(answer).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const receiver: FaultReceiver = {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals: [],
    answer: 200,
    down: stop,
    up: () => listen(port),
    async waitUntil(done, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline) {
          const seen = receiver.arrivals.map((a) => `${a.answered}:${summary(a)}`).join(' ');
          throw new Error(`timed out waiting for ${what}; arrivals: ${seen}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: stop,
  };
  return receiver;
}

/** Whether the arrival is a notification: a Bundle led by its status Parameters. */
function isNotification(a: Arrival): boolean {
  return a.body?.resourceType === 'Bundle' && a.body.entry?.[0]?.resource?.resourceType === 'Parameters';
}

/** Whether the arrival is a notification of the subscription (of that type, if given). */
function isNotificationOf(a: Arrival, subscriptionId: string, type?: string): boolean {
  return (
    isNotification(a) &&
    !!statusValue(a.body, 'subscription')?.endsWith(`/Subscription/${subscriptionId}`) &&
    (!type || statusValue(a.body, 'type') === type)
  );
}

/** One arrival as `<subscription id>/<type>[numbers]`, for failure messages. */
function summary(a: Arrival): string {
  if (!isNotification(a)) return a.body ? String(a.body.resourceType) : 'no-body';
  const id = statusValue(a.body, 'subscription')?.split('/').pop();
  return `${id}/${statusValue(a.body, 'type')}[${eventsOf(a.body)
    .map((e) => e.number)
    .join(',')}]`;
}

/** An event as a subscriber saw it: its number, focus, and the POST's idempotency key. */
export interface SeenEvent {
  number: number;
  focus?: string;
  key: string;
  answered: number | 'held';
}

/** The events of one subscription's event-notifications, in the order they arrived (held ones too). */
export function seenEvents(arrivals: Arrival[], subscriptionId: string): SeenEvent[] {
  return arrivals
    .filter((a) => isNotificationOf(a, subscriptionId, 'event-notification'))
    .flatMap((a) =>
      eventsOf(a.body).map((e) => ({
        number: e.number,
        focus: e.focus,
        key: String(a.headers['idempotency-key']),
        answered: a.answered,
      })),
    );
}

/** The distinct event numbers of one subscription the receiver accepted (answered 2xx). */
export function acceptedNumbers(arrivals: Arrival[], subscriptionId: string): Set<number> {
  return new Set(
    seenEvents(arrivals, subscriptionId)
      .filter((e) => typeof e.answered === 'number' && e.answered < 300)
      .map((e) => e.number),
  );
}

/** The event numbers of each event-notification of one subscription the receiver accepted, in arrival order. */
export function acceptedNotifications(arrivals: Arrival[], subscriptionId: string): number[][] {
  return arrivals
    .filter((a) => typeof a.answered === 'number' && a.answered < 300)
    .map((a) => seenEvents([a], subscriptionId).map((e) => e.number))
    .filter((numbers) => numbers.length > 0);
}
