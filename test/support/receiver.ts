/**
 * A real rest-hook receiver on a loopback port: records every POST (headers
 * and body) and answers with the status the test sets (200 by default), or
 * not at all while it is down.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Parameters } from '@medplum/fhirtypes';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body ('' when none). */
  raw: string;
  body?: Bundle & Record<string, unknown>;
  at: number;
  /** The status it was answered with. */
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The status to answer (e.g. 500); 'hang' holds the request until the sender gives up. */
  answer: number | 'hang';
  /** Resolves once `count` POSTs have arrived (rejects after the timeout). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const answer = receiver.answer;
      if (answer === 'hang') return;
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: raw ? JSON.parse(raw) : undefined,
        at: Date.now(),
        answered: answer,
      });
      for (const w of waiters.splice(0)) w();
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    answer: 200,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return received.slice(0, count);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** The SubscriptionStatus Parameters leading a notification. */
export function statusOf(bundle: Bundle | undefined): Parameters {
  const status = bundle?.entry?.[0]?.resource;
  if (status?.resourceType !== 'Parameters') throw new Error('the notification does not start with a status');
  return status;
}

/** A named value of the status Parameters (string, code, canonical or reference). */
export function statusValue(bundle: Bundle | undefined, name: string): string | undefined {
  const p = statusOf(bundle).parameter?.find((x) => x.name === name);
  return p?.valueString ?? p?.valueCode ?? p?.valueCanonical ?? p?.valueReference?.reference;
}

/** The notification events: number and focus of each. */
export function eventsOf(bundle: Bundle | undefined): { number: number; focus?: string }[] {
  return (statusOf(bundle).parameter ?? [])
    .filter((p) => p.name === 'notification-event')
    .map((p) => ({
      number: Number(p.part?.find((x) => x.name === 'event-number')?.valueString),
      focus: p.part?.find((x) => x.name === 'focus')?.valueReference?.reference,
    }));
}
