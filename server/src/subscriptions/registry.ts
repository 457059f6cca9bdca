/**
 * The subscriptions this node matches writes against, by resource type:
 * every current Subscription that is not off (events are numbered for
 * requested and error subscriptions too, so none is lost before activation
 * or while delivery fails). Loaded at start and again whenever a Subscription
 * is written on any node (NOTIFY hearth_subscriptions, sent with its commit).
 */
import type { Subscription } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { Logger } from 'pino';
import { loadSubscriptions } from '../store/subscriptions.ts';
import type { Queryable } from '../store/resources.ts';
import { Listener } from '../store/listener.ts';
import { isEvent, Values } from './matcher.ts';
import { readSpec, type SubscriptionSpec } from './spec.ts';
import type { Change } from './topics.ts';

export const SUBSCRIPTIONS_CHANNEL = 'hearth_subscriptions';

export class SubscriptionRegistry {
  private byType = new Map<string, SubscriptionSpec[]>();
  private listener?: Listener;
  private current?: Promise<void>;
  private next?: Promise<void>;
  private readonly reloaded: (() => void)[] = [];
  /** The specs of the last load, by the Subscription JSON they were read from. */
  private parsed = new Map<string, SubscriptionSpec>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Whether this node hears Subscription writes of other nodes. While its
   * listening connection is lost it does not: every write then reloads the
   * registry before it is matched (ensureCurrent).
   */
  hearing = true;

  /** Whether a write of this type can be an event (or is a Subscription); every type while not hearing. */
  watches(resourceType: string): boolean {
    return !this.hearing || resourceType === 'Subscription' || this.byType.has(resourceType);
  }

  /** Makes sure the registry is current before matching: a reload when changes may have gone unheard. */
  async ensureCurrent(db: Queryable): Promise<void> {
    // On the write's own connection: waiting for another while holding it could exhaust the pool.
    if (!this.hearing) await this.load(db);
  }

  /** The subscriptions a change is an event for. */
  matching(resourceType: string, change: Change): SubscriptionSpec[] {
    const specs = this.byType.get(resourceType) ?? [];
    const resource = change.current ?? change.previous;
    if (!specs.length || !resource) return [];
    // The parameters' values evaluated once for all the subscriptions.
    const values = new Values(resource);
    const now = Date.now();
    return specs.filter((spec) => isEvent(spec, change, now, values));
  }

  spec(id: string): SubscriptionSpec | undefined {
    for (const specs of this.byType.values()) {
      const found = specs.find((s) => s.id === id);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * Reloads every subscription (one query). A call while a load runs (which
   * may have read before the change it is called for) gets one more load after
   * it, shared by every such call.
   */
  reload(): Promise<void> {
    if (!this.current) {
      this.current = this.load().finally(() => {
        this.current = undefined;
      });
      return this.current;
    }
    this.next ??= this.current.then(() => {
      this.next = undefined;
      return this.reload();
    });
    return this.next;
  }

  private async load(db: Queryable = this.pool): Promise<void> {
    const byType = new Map<string, SubscriptionSpec[]>();
    const parsed = new Map<string, SubscriptionSpec>();
    for (const content of await loadSubscriptions(db)) {
      try {
        // A version read before is not read again (its stored JSON is the key).
        const spec = this.parsed.get(content) ?? readSpec(JSON.parse(content) as Subscription);
        parsed.set(content, spec);
        byType.set(spec.resourceType, [...(byType.get(spec.resourceType) ?? []), spec]);
      } catch (error) {
        this.log.warn({ err: error }, 'a stored Subscription can no longer be honoured');
      }
    }
    this.byType = byType;
    this.parsed = parsed;
    for (const listener of this.reloaded) listener();
  }

  /** Calls `listener` after every reload (the delivery worker looks for new work). */
  onReload(listener: () => void): void {
    this.reloaded.push(listener);
  }

  /**
   * Loads, then listens for Subscription writes on any node (on a connection
   * of its own, until stop); after a lost connection, reloads (writes made
   * meanwhile were not heard).
   */
  async start(): Promise<void> {
    const reload = () => void this.reload().catch((err) => this.log.warn({ err }, 'subscription reload failed'));
    this.listener = new Listener(this.pool, [SUBSCRIPTIONS_CHANNEL], {
      onNotification: reload,
      onLost: () => {
        this.hearing = false;
      },
      onRestored: () => {
        this.hearing = true;
        reload();
      },
      onError: (err) => this.log.warn({ err }, 'subscription listener connection lost'),
    });
    await this.listener.start();
    await this.reload();
  }

  stop(): void {
    this.listener?.stop();
    this.listener = undefined;
  }
}
