/**
 * Websocket subscriptions on this node (Backport IG channels.html): a client
 * gets a binding token ($get-ws-binding-token), connects, and sends
 * `bind-with-token <token>`; each subscription the token names is bound to
 * the socket until the token expires (bind again with a fresh one to go on),
 * and gets a handshake. New events (NOTIFY from any node's writes) are pushed
 * in order: topic subscriptions as notification Bundles (what the owner may
 * not see withheld, as for rest-hook), R4 criteria subscriptions as
 * `ping <id>` (the HAPI convention: the client then searches). Heartbeats as
 * the subscription asks. Missed events are for $events.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccessCache } from '../auth/access-cache.ts';
import { outcome, issue } from '../fhir/errors.ts';
import { eventCount, readBindingToken, readDelivery } from '../store/subscriptions.ts';
import { notificationBundle, type NotificationType, type NotifiedEvent } from './notification.ts';
import type { Owner } from './owner.ts';
import { notifiedEvents } from './payload.ts';
import type { SubscriptionRegistry } from './registry.ts';
import { MAX_COUNT, type SubscriptionSpec } from './spec.ts';

export interface Socket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

interface Binding {
  socket: Socket;
  subscriptionId: string;
  expires: number;
  /** Whose access decides what it is shown (the subscription's owner when it was bound). */
  owner: Owner | null | undefined;
  /** The last event number sent on this socket. */
  lastSent: number;
  lastActivity: number;
  /** Sends in order, one after another. */
  queue: Promise<void>;
  /** A push is queued: later notifications only raise what it sends up to (undefined: the count then). */
  pending?: { upTo: number | undefined };
}

export interface HubDeps {
  pool: pg.Pool;
  registry: SubscriptionRegistry;
  baseUrl: string;
  graceMs: number;
  accessCache: AccessCache;
  auth: boolean;
  log: Pick<Logger, 'warn'>;
}

/** Where clients connect (under the server's origin). */
export const SOCKET_PATH = '/ws/subscriptions';
/** How long a binding token (and a binding made with it) lasts. */
export const BINDING_TOKEN_SECONDS = 600;

/** The websocket URL for a FHIR base URL (ws for http, wss for https). */
export function socketUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${url.protocol === 'https:' ? 'wss:' : 'ws:'}//${url.host}${SOCKET_PATH}`;
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class WebsocketHub {
  private readonly bindings = new Map<string, Set<Binding>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: HubDeps) {
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /** A new connection: what to do with its messages and its end. */
  connected(socket: Socket): { message(text: string): void; closed(): void } {
    return {
      message: (text) =>
        void this.message(socket, text.trim()).catch((err) => this.deps.log.warn({ err }, 'websocket message failed')),
      closed: () => this.unbind(socket),
    };
  }

  private async message(socket: Socket, text: string): Promise<void> {
    const [command, argument] = text.split(/\s+/, 2);
    if (command === 'bind-with-token' && argument) return this.bind(socket, argument);
    if (command === 'ping') return socket.send('ping-ack');
    if (command === 'bind')
      return refuse(socket, 'Bind with a token: bind-with-token <token from Subscription/$get-ws-binding-token>');
    return refuse(socket, `Unknown message "${command}" (bind-with-token <token>, ping)`);
  }

  private async bind(socket: Socket, token: string): Promise<void> {
    const found = await readBindingToken(this.deps.pool, hashToken(token));
    if (!found) return refuse(socket, 'The binding token is not valid or has expired');
    for (const id of found.subscriptions) {
      // Made on another node a moment ago, its NOTIFY may not have reached this one yet: the token says it exists.
      if (!this.deps.registry.spec(id)) await this.deps.registry.reload();
      const spec = this.deps.registry.spec(id);
      const delivery = await readDelivery(this.deps.pool, id);
      if (!spec || spec.channel !== 'websocket' || !delivery || delivery.status === 'off') {
        refuse(socket, `Subscription/${id} is not an active websocket subscription`);
        continue;
      }
      const existing = [...(this.bindings.get(id) ?? [])].find((b) => b.socket === socket);
      const expires = Date.parse(found.expires);
      if (existing) {
        existing.expires = expires;
        continue;
      }
      const binding: Binding = {
        socket,
        subscriptionId: id,
        expires,
        owner: delivery.owner as Owner | null | undefined,
        lastSent: delivery.events,
        lastActivity: Date.now(),
        queue: Promise.resolve(),
      };
      this.bindings.set(id, new Set([...(this.bindings.get(id) ?? []), binding]));
      this.enqueue(binding, async () => {
        if (spec.topic) binding.socket.send(this.bundle(spec, 'handshake', delivery.events, []));
        else binding.socket.send(`bound ${id}`);
      });
    }
  }

  private unbind(socket: Socket): void {
    for (const [id, set] of this.bindings) {
      for (const b of set) if (b.socket === socket) set.delete(b);
      if (!set.size) this.bindings.delete(id);
    }
  }

  /** New events (NOTIFY payload `id:last,…`, or '' when it was too long to name them). */
  onEvents(payload: string): void {
    const named = payload
      ? payload.split(',').map((p) => {
          const at = p.lastIndexOf(':');
          return [p.slice(0, at), Number(p.slice(at + 1))] as const;
        })
      : [...this.bindings.keys()].map((id) => [id, undefined] as const);
    for (const [id, last] of named) {
      for (const binding of this.bindings.get(id) ?? []) {
        // A burst of writes makes one push per socket, not one per write.
        if (binding.pending) {
          const upTo = binding.pending.upTo;
          binding.pending.upTo = upTo === undefined || last === undefined ? undefined : Math.max(upTo, last);
          continue;
        }
        const pending = { upTo: last };
        binding.pending = pending;
        this.enqueue(binding, () => {
          binding.pending = undefined;
          return this.push(binding, pending.upTo);
        });
      }
    }
  }

  private async push(binding: Binding, last: number | undefined): Promise<void> {
    if (Date.now() >= binding.expires) return this.expire(binding);
    const id = binding.subscriptionId;
    const upTo = last ?? (await eventCount(this.deps.pool, id));
    const spec = this.deps.registry.spec(id);
    if (!spec || upTo <= binding.lastSent) return;
    const owner = binding.owner;
    if (!spec.topic) {
      // R4 criteria: a ping when something the owner may see matched (nothing for what they may not).
      const range = { from: binding.lastSent + 1, to: upTo, limit: MAX_COUNT };
      const events = await notifiedEvents(this.deps, { id, owner, content: 'id-only' }, range);
      if (events.some((e) => !e.withheld)) binding.socket.send(`ping ${id}`);
      binding.lastSent = upTo;
      binding.lastActivity = Date.now();
      return;
    }
    while (binding.lastSent < upTo) {
      const range = { from: binding.lastSent + 1, to: upTo, limit: spec.maxCount };
      const events = await notifiedEvents(this.deps, { id, owner, content: spec.content }, range);
      if (!events.length) break;
      binding.socket.send(this.bundle(spec, 'event-notification', upTo, events));
      binding.lastSent = events[events.length - 1].number;
      binding.lastActivity = Date.now();
    }
    binding.lastSent = Math.max(binding.lastSent, upTo);
  }

  /** Heartbeats when due; bindings whose token expired are dropped (the client binds again with a fresh token). */
  private tick(): void {
    const now = Date.now();
    for (const set of this.bindings.values()) {
      for (const binding of set) {
        if (now >= binding.expires) {
          this.enqueue(binding, async () => this.expire(binding));
          continue;
        }
        const spec = this.deps.registry.spec(binding.subscriptionId);
        const period = spec?.topic && spec.heartbeatSeconds;
        if (period && now - binding.lastActivity >= period * 1000) {
          binding.lastActivity = now;
          this.enqueue(binding, async () => binding.socket.send(this.bundle(spec, 'heartbeat', binding.lastSent, [])));
        }
      }
    }
  }

  private expire(binding: Binding): void {
    const set = this.bindings.get(binding.subscriptionId);
    if (!set?.delete(binding)) return;
    if (!set.size) this.bindings.delete(binding.subscriptionId);
    refuse(
      binding.socket,
      `The binding of Subscription/${binding.subscriptionId} expired: bind again with a new token`,
    );
  }

  private enqueue(binding: Binding, work: () => Promise<void>): void {
    binding.queue = binding.queue
      .then(work)
      .catch((err) => this.deps.log.warn({ err, subscription: binding.subscriptionId }, 'websocket push failed'));
  }

  private bundle(spec: SubscriptionSpec, type: NotificationType, eventsSinceStart: number, events: NotifiedEvent[]) {
    return JSON.stringify(
      notificationBundle(
        {
          baseUrl: this.deps.baseUrl,
          subscriptionId: spec.id,
          topic: spec.topic?.url,
          status: 'active',
          type,
          eventsSinceStart,
        },
        events,
        spec.content,
      ),
    );
  }

  stop(): void {
    clearInterval(this.timer);
    for (const set of this.bindings.values()) for (const b of set) b.socket.close(1001, 'server stopping');
    this.bindings.clear();
  }
}

/** An OperationOutcome on the socket, saying what was refused. */
function refuse(socket: Socket, message: string): void {
  socket.send(JSON.stringify(outcome(issue('processing', message))));
}
