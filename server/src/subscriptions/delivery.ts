/**
 * The delivery worker of one node. Woken by NOTIFY (new events on any node),
 * by Subscription writes and by a one-second tick (retries and heartbeats),
 * it claims subscriptions with work due (store: FOR UPDATE SKIP LOCKED and a
 * lease, so the fleet sends each event once and a dead node's claim runs
 * out), and sends, per subscription in order: the handshake (then active,
 * or error), undelivered events up to max-count per notification, or a
 * heartbeat. A failure is retried with exponential backoff and jitter; after
 * the configured number in a row the subscription goes to error (its events
 * are still numbered, for $events). A delivery cut off by a crash is sent
 * again by whoever claims it next, with the same event numbers and
 * idempotency key (at least once).
 */
import type { Subscription } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AccessCache } from '../auth/access-cache.ts';
import type { SubscriptionConfig } from '../config.ts';
import type { Repository } from '../repository/repository.ts';
import { claimDue, pruneEvents, settleDelivery, type Delivery } from '../store/subscriptions.ts';
import { notificationBundle, type NotificationType, type NotifiedEvent } from './notification.ts';
import type { Owner } from './owner.ts';
import { notifiedEvents } from './payload.ts';
import type { SubscriptionRegistry } from './registry.ts';
import type { RestHook } from './rest-hook.ts';
import type { SubscriptionSpec } from './spec.ts';
import { Listener } from '../store/listener.ts';

export const EVENTS_CHANNEL = 'hearth_subscription_events';
const MAX_IN_FLIGHT = 64;
/** The least time between two looks for work (a burst of writes makes one claim, not one each). */
const WAKE_GAP_MS = 10;
const MAX_RETRY_MS = 5 * 60_000;

export interface DeliveryDeps {
  pool: pg.Pool;
  repo: Repository;
  registry: SubscriptionRegistry;
  restHook: RestHook;
  config: SubscriptionConfig;
  baseUrl: string;
  graceMs: number;
  accessCache: AccessCache;
  /** Whether security is on (an owner-less subscription then delivers nothing about anyone). */
  auth: boolean;
  node: string;
  log: Pick<Logger, 'warn' | 'info'>;
}

export class DeliveryWorker {
  private readonly inFlight = new Set<string>();
  private draining = false;
  private again = false;
  private scheduled?: NodeJS.Timeout;
  private lastDrain = 0;
  private stopped = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private listener?: Listener;
  /** Called with each NOTIFY payload of new events (websocket connections of this node listen). */
  onEvents?: (payload: string) => void;

  constructor(private readonly deps: DeliveryDeps) {
    deps.registry.onReload(() => this.wake());
  }

  async start(): Promise<void> {
    this.listener = new Listener(this.deps.pool, [EVENTS_CHANNEL], {
      onNotification: (_channel, payload) => {
        this.wake();
        this.onEvents?.(payload);
      },
      // Events numbered while the connection was lost were not heard: look for them now ('' = every subscription).
      onRestored: () => {
        this.wake();
        this.onEvents?.('');
      },
      onError: (err) => this.deps.log.warn({ err }, 'subscription event listener connection lost'),
    });
    await this.listener.start();
    this.timers.push(setInterval(() => this.wake(), 1000));
    const prune = () =>
      void pruneEvents(this.deps.pool, this.deps.config.eventRetentionDays).catch((err) =>
        this.deps.log.warn({ err }, 'pruning subscription events failed'),
      );
    this.timers.push(setInterval(prune, 3600_000));
    for (const t of this.timers) t.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.scheduled);
    this.listener?.stop();
    this.listener = undefined;
    while (this.inFlight.size || this.draining) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * Looks for work soon: at once, or (a burst of notifications) once
   * WAKE_GAP_MS have passed since the last look started, then again if woken
   * meanwhile.
   */
  wake(): void {
    if (this.stopped || this.scheduled) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    const wait = this.lastDrain + WAKE_GAP_MS - Date.now();
    if (wait > 0) {
      this.scheduled = setTimeout(() => {
        this.scheduled = undefined;
        this.wake();
      }, wait);
      return;
    }
    this.draining = true;
    this.lastDrain = Date.now();
    void this.drain()
      .catch((err) => this.deps.log.warn({ err }, 'claiming subscription deliveries failed'))
      .finally(() => {
        this.draining = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async drain(): Promise<void> {
    const lease = this.deps.config.timeoutSeconds * 2 + 10;
    while (!this.stopped) {
      const free = MAX_IN_FLIGHT - this.inFlight.size;
      if (free <= 0) return;
      const claimed = await claimDue(this.deps.pool, this.deps.node, lease, free);
      if (!claimed.length) return;
      for (const delivery of claimed) {
        this.inFlight.add(delivery.id);
        void this.deliver(delivery)
          .catch((err) => this.deps.log.warn({ err, subscription: delivery.id }, 'subscription delivery failed'))
          .finally(() => {
            this.inFlight.delete(delivery.id);
            this.wake();
          });
      }
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    let spec = this.deps.registry.spec(d.id);
    if (!spec) {
      // Written on another node a moment ago: this node may not have loaded it yet.
      await this.deps.registry.reload();
      spec = this.deps.registry.spec(d.id);
    }
    if (!spec) {
      // Deleted or off meanwhile: give the claim back.
      return this.settle(d, { sent: false, failures: d.failures, retryInMs: 60_000 });
    }
    if (d.status === 'requested' && d.handshakePending) return this.handshake(d, spec);
    if (d.events > d.deliveredThrough) return this.sendEvents(d, spec);
    return this.heartbeat(d, spec);
  }

  private async handshake(d: Delivery, spec: SubscriptionSpec): Promise<void> {
    try {
      await this.post(
        d,
        spec,
        spec.topic ? this.bundle(d, spec, 'handshake', 'requested', []) : undefined,
        'handshake',
      );
    } catch (error) {
      const reason = `Handshake failed: ${message(error)}`;
      await this.setStatus(d.id, 'requested', 'error', reason);
      return this.settle(d, {
        sent: false,
        failures: d.failures + 1,
        retryInMs: 0,
        status: 'error',
        handshakeDone: true,
      });
    }
    await this.setStatus(d.id, 'requested', 'active');
    return this.settle(d, { sent: true, failures: 0, retryInMs: 0, status: 'active', handshakeDone: true });
  }

  private async sendEvents(d: Delivery, spec: SubscriptionSpec): Promise<void> {
    const max = spec.topic ? spec.maxCount : 1;
    const events = await notifiedEvents(
      this.deps,
      { id: d.id, owner: d.owner as Owner | null, content: spec.content },
      { from: d.deliveredThrough + 1, to: d.events, limit: max },
    );
    if (!events.length) {
      // Pruned before they could be sent: nothing left to send up to the count.
      return this.settle(d, { sent: false, failures: 0, retryInMs: 0, deliveredThrough: d.events });
    }
    const last = events[events.length - 1].number;
    try {
      if (spec.topic) {
        await this.post(
          d,
          spec,
          this.bundle(d, spec, 'event-notification', 'active', events),
          `${events[0].number}-${last}`,
        );
      } else if (!events[0].withheld) {
        // R4 criteria (no event numbers to keep gap-free): an event the owner may not see is not sent at all.
        const resource = events[0].resource;
        await this.post(d, spec, resource && spec.mimeType ? JSON.stringify(resource) : undefined, `${last}`);
      }
    } catch (error) {
      return this.failed(d, error);
    }
    return this.settle(d, { sent: true, failures: 0, retryInMs: 0, deliveredThrough: last });
  }

  private async heartbeat(d: Delivery, spec: SubscriptionSpec): Promise<void> {
    if (!spec.topic || !spec.heartbeatSeconds)
      return this.settle(d, { sent: true, failures: d.failures, retryInMs: 0 });
    try {
      await this.post(d, spec, this.bundle(d, spec, 'heartbeat', 'active', []), `heartbeat-${Date.now()}`);
    } catch (error) {
      return this.failed(d, error);
    }
    return this.settle(d, { sent: true, failures: 0, retryInMs: 0 });
  }

  private async failed(d: Delivery, error: unknown): Promise<void> {
    const failures = d.failures + 1;
    if (failures >= this.deps.config.maxFailures) {
      const reason = `Delivery failed ${failures} times in a row; last: ${message(error)}`;
      await this.setStatus(d.id, 'active', 'error', reason);
      return this.settle(d, { sent: false, failures, retryInMs: 0, status: 'error' });
    }
    const backoff = Math.min(MAX_RETRY_MS, this.deps.config.retryBaseMs * 2 ** (failures - 1));
    return this.settle(d, { sent: false, failures, retryInMs: Math.round(backoff * (0.5 + Math.random() / 2)) });
  }

  private bundle(d: Delivery, spec: SubscriptionSpec, type: NotificationType, status: string, events: NotifiedEvent[]) {
    return JSON.stringify(
      notificationBundle(
        {
          baseUrl: this.deps.baseUrl,
          subscriptionId: d.id,
          topic: spec.topic?.url,
          status,
          type,
          eventsSinceStart: d.events,
        },
        events,
        spec.content,
      ),
    );
  }

  private post(d: Delivery, spec: SubscriptionSpec, body: string | undefined, key: string): Promise<void> {
    const timeout = Math.min(spec.timeoutSeconds ?? Infinity, this.deps.config.timeoutSeconds);
    return this.deps.restHook.send({
      endpoint: spec.endpoint!,
      headers: spec.headers,
      contentType: body === undefined ? undefined : (spec.mimeType ?? 'application/fhir+json'),
      body,
      secret: d.secret,
      idempotencyKey: `${d.id}:${key}`,
      timeoutMs: timeout * 1000,
    });
  }

  private settle(d: Delivery, result: Parameters<typeof settleDelivery>[3]): Promise<void> {
    return settleDelivery(this.deps.pool, d.id, this.deps.node, result);
  }

  /**
   * Hearth's own change of a Subscription's status (a new version, so its
   * history shows when and why), only if it still has the status expected:
   * a client's change meanwhile wins.
   */
  private async setStatus(id: string, from: string, to: 'active' | 'error', error?: string): Promise<void> {
    await this.deps.repo.asServer().transaction(async (repo) => {
      const current = await repo.readForUpdate('Subscription', id).catch(() => undefined);
      if (!current?.content) return;
      const subscription = JSON.parse(current.content) as Subscription;
      if (subscription.status !== from) return;
      const { error: _old, ...rest } = subscription;
      await repo.update('Subscription', id, { ...rest, status: to, ...(error ? { error } : {}) } as Subscription, {
        ifMatch: `W/"${current.versionId}"`,
      });
    });
  }
}

function message(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return [(error as Error).message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
}
