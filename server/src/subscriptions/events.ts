/**
 * Subscriptions as the Repository's write observer: a Subscription is read
 * and checked before it is stored (what Hearth cannot honour is refused), and
 * every other write to a subscribed type is matched against the registry,
 * its events numbered and stored in the write's own transaction (so nothing
 * is notified that did not commit, and nothing committed goes unnumbered).
 */
import { randomBytes } from 'node:crypto';
import type { Extension, Resource, Subscription } from '@medplum/fhirtypes';
import { restrictions } from '../auth/access.ts';
import type { Guard } from '../auth/guard.ts';
import { FhirError } from '../fhir/errors.ts';
import type { WriteObserver, WrittenChange } from '../repository/observer.ts';
import { recordEvents, removeDelivery, saveDelivery, type NewEvent } from '../store/subscriptions.ts';
import type { Queryable } from '../store/resources.ts';
import { checkEndpoint, type EndpointPolicy } from './endpoints.ts';
import { ownerKey, withOwner } from '../auth/ownership.ts';
import { accessOf, type Owner } from './owner.ts';
import { SUBSCRIPTIONS_CHANNEL, type SubscriptionRegistry } from './registry.ts';
import { readSpec, SECRET_EXTENSION } from './spec.ts';
import type { Change } from './topics.ts';

/** What prepare() keeps of a client's Subscription write for beforeCommit. */
interface Note {
  /** A client's write (not Hearth's own). */
  client: true;
  /** Undefined when security is off. */
  owner?: Owner;
  secret?: string;
}

const CLIENT_STATUSES = new Set(['requested', 'off']);

export class SubscriptionEvents implements WriteObserver {
  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly policy: EndpointPolicy,
  ) {}

  watches(resourceType: string): boolean {
    return this.registry.watches(resourceType);
  }

  prepare(
    resource: Resource,
    previous: Resource | undefined,
    by: { guard?: Guard; server: boolean },
  ): { resource: Resource; note?: unknown } {
    if (resource.resourceType !== 'Subscription') return { resource };
    // Hearth's own writes (status after a handshake or failures) are taken as they are.
    if (by.server) return { resource };
    const { guard } = by;
    const { extension, ...rest } = resource;
    const others = extension?.filter((e) => e.url !== SECRET_EXTENSION);
    const owned = withOwner(
      { ...rest, ...(others?.length ? { extension: others } : {}) },
      guard && ownerKey(guard.identity),
    );
    const subscription = this.statusOf(owned as Subscription, previous as Subscription | undefined);
    const spec = readSpec(subscription);
    if (spec.channel === 'rest-hook') checkEndpoint(spec.endpoint!, this.policy);
    const owner: Owner | undefined = guard && { identity: guard.identity, scopes: [...guard.scopes] };
    if (owner && restrictions(accessOf(owner), spec.resourceType, 'r') === null) {
      throw new FhirError(
        'forbidden',
        `The access token cannot read ${spec.resourceType}, so it cannot subscribe to it`,
      );
    }
    const note: Note = { client: true, owner, secret: secretOf(extension?.find((e) => e.url === SECRET_EXTENSION)) };
    return { resource: subscription, note };
  }

  /**
   * A client sets requested (to start or restart: a handshake follows) or
   * off; active and error are Hearth's to set, kept only when unchanged. A
   * websocket subscription has no endpoint to greet: it is active at once
   * (its handshake is sent when a client binds).
   */
  private statusOf(subscription: Subscription, before: Subscription | undefined): Subscription {
    const status = subscription.status;
    if (!CLIENT_STATUSES.has(status) && status !== before?.status) {
      throw new FhirError('business-rule', `A client sets status requested or off (Hearth sets ${status})`, {
        expression: ['Subscription.status'],
      });
    }
    if (status === 'requested' && subscription.channel?.type === 'websocket') {
      return { ...subscription, status: 'active', error: undefined };
    }
    if (status === 'requested') return { ...subscription, error: undefined };
    return subscription;
  }

  async beforeCommit(db: Queryable, changes: WrittenChange[]): Promise<void> {
    await this.registry.ensureCurrent(db);
    const events: NewEvent[] = [];
    let subscriptionsChanged = false;
    for (const change of changes) {
      if (change.resourceType === 'Subscription') {
        subscriptionsChanged = true;
        await this.saveSubscription(db, change);
        continue;
      }
      const judged: Change = {
        interaction: change.method === 'DELETE' ? 'delete' : change.previous ? 'update' : 'create',
        previous: change.previous,
        current: change.current,
      };
      for (const spec of this.registry.matching(change.resourceType, judged)) {
        events.push({
          subscriptionId: spec.id,
          occurred: change.lastUpdated,
          focusType: change.resourceType,
          focusId: change.id,
          focusVersion: change.versionId,
          method: change.method,
        });
      }
    }
    await recordEvents(db, events);
    if (subscriptionsChanged) await db.query(`SELECT pg_notify('${SUBSCRIPTIONS_CHANNEL}', '')`);
  }

  private async saveSubscription(db: Queryable, change: WrittenChange): Promise<void> {
    const subscription = change.current as Subscription | undefined;
    if (!subscription) return removeDelivery(db, change.id);
    const note = change.note as Note | undefined;
    const channel = subscription.channel.type;
    await saveDelivery(db, {
      id: change.id,
      status: subscription.status,
      channel,
      owner: note?.owner,
      // Without a secret of the client's, deliveries are signed with one of Hearth's (set one to verify them).
      secret: note?.secret ?? (change.previous ? undefined : randomBytes(32).toString('base64url')),
      // Requested by a client: greet the endpoint (again), delivering from the next event on.
      handshakePending: subscription.status === 'requested' && channel === 'rest-hook' && !!note,
      heartbeatSeconds: readSpec(subscription).heartbeatSeconds,
    });
  }

  async afterCommit(changes: WrittenChange[]): Promise<void> {
    if (!changes.some((c) => c.resourceType === 'Subscription')) return;
    // Before the answer: this node matches the next write against it (others on their NOTIFY).
    await this.registry.reload();
  }
}

function secretOf(ext: Extension | undefined): string | undefined {
  if (!ext) return undefined;
  const value = ext.valueString ?? '';
  if (value.length < 32) {
    throw new FhirError('invalid', 'The signing secret must be at least 32 characters', {
      expression: ['Subscription.extension'],
    });
  }
  return value;
}
