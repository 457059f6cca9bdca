/**
 * Stored events as they are notified to a subscription's owner (rest-hook
 * and websocket alike): each focus version read (one query for all), and its
 * focus and content shown only if the owner may read it now (scopes and
 * legitimate relationship, as a REST read decides); a deletion is judged on
 * the version it deleted and never carries content.
 */
import type { Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { AccessCache } from '../auth/access-cache.ts';
import { readVersionContents } from '../store/resources.ts';
import type { StoredEvent } from '../store/subscriptions.ts';
import type { NotifiedEvent } from './notification.ts';
import { ownerMayRead, type Owner } from './owner.ts';
import type { PayloadContent } from './spec.ts';

export interface PayloadDeps {
  pool: pg.Pool;
  graceMs: number;
  accessCache: AccessCache;
  /** Whether security is on (an owner-less subscription then shows nothing). */
  auth: boolean;
}

export async function notifiedEvents(
  deps: PayloadDeps,
  owner: Owner | null | undefined,
  content: PayloadContent,
  stored: StoredEvent[],
): Promise<NotifiedEvent[]> {
  const judged = (e: StoredEvent) => ({
    resourceType: e.focusType,
    id: e.focusId,
    versionId: e.method === 'DELETE' ? e.focusVersion - 1 : e.focusVersion,
  });
  const contents = await readVersionContents(deps.pool, stored.map(judged));
  const out: NotifiedEvent[] = [];
  for (const e of stored) {
    const key = judged(e);
    const text = contents.get(`${key.resourceType}/${key.id}/${key.versionId}`);
    const resource = text ? (JSON.parse(text) as Resource) : undefined;
    const visible = !resource
      ? false
      : owner
        ? await ownerMayRead(deps.pool, owner, resource, deps.graceMs, deps.accessCache)
        : !deps.auth;
    out.push({
      number: e.eventNumber,
      occurred: e.occurred,
      focus: { resourceType: e.focusType, id: e.focusId, versionId: e.focusVersion },
      method: e.method as NotifiedEvent['method'],
      resource: visible && e.method !== 'DELETE' && content === 'full-resource' ? resource : undefined,
      withheld: !visible,
    });
  }
  return out;
}
