/**
 * Stored events as they are notified to a subscription's owner (rest-hook
 * and websocket alike): read with their focus versions (one query), and each
 * focus and content shown only if the owner may read it now (scopes and
 * legitimate relationship, as a REST read decides); a deletion is judged on
 * the version it deleted and never carries content.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { AccessCache } from '../auth/access-cache.ts';
import { readEventsWithFocus } from '../store/subscriptions.ts';
import type { NotifiedEvent } from './notification.ts';
import { ownerView, type Owner } from './owner.ts';
import type { PayloadContent } from './spec.ts';

export interface PayloadDeps {
  pool: pg.Pool;
  graceMs: number;
  accessCache: AccessCache;
  /** Whether security is on (an owner-less subscription then shows nothing). */
  auth: boolean;
}

/** The events of a subscription numbered from..to (at most `limit`), as notified to its owner. */
export async function notifiedEvents(
  deps: PayloadDeps,
  subscription: { id: string; owner: Owner | null | undefined; content: PayloadContent },
  range: { from: number; to: number; limit: number },
): Promise<NotifiedEvent[]> {
  const events = await readEventsWithFocus(deps.pool, subscription.id, range.from, range.to, range.limit);
  const out: NotifiedEvent[] = [];
  for (const e of events) {
    const stored = e.content ? (JSON.parse(e.content) as Resource) : undefined;
    const resource = !stored
      ? undefined
      : subscription.owner
        ? await ownerView(deps.pool, subscription.owner, stored, deps.graceMs, deps.accessCache, e.sealedNow)
        : deps.auth
          ? undefined
          : stored;
    const visible = !!resource;
    out.push({
      number: e.eventNumber,
      occurred: e.occurred,
      focus: { resourceType: e.focusType, id: e.focusId, versionId: e.focusVersion },
      method: e.method as NotifiedEvent['method'],
      resource: visible && e.method !== 'DELETE' && subscription.content === 'full-resource' ? resource : undefined,
      withheld: !visible,
    });
  }
  return out;
}
