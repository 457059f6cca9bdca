/**
 * The Backport IG's Subscription operations: `$status` (instance, and type
 * level with `id` and `status`) answers a searchset of SubscriptionStatus
 * Parameters; `$events` (instance; `eventsSinceNumber`, `eventsUntilNumber`,
 * `content`) answers a history Bundle of the events kept (retention period),
 * each focus shown as the caller's own access allows (a focus they may not see
 * is withheld: number and time only). Both see only the caller's own
 * Subscriptions (auth/ownership.ts), as a read does.
 */
import type { Bundle, Parameters, Resource, Subscription } from '@medplum/fhirtypes';
import { restrictions } from '../auth/access.ts';
import { FhirError } from '../fhir/errors.ts';
import { parseSearch } from '../search/parse.ts';
import { randomBytes } from 'node:crypto';
import { eventCount, readDelivery, readEventsWithFocus, saveBindingToken } from '../store/subscriptions.ts';
import { BINDING_TOKEN_SECONDS, hashToken, socketUrl } from '../subscriptions/websocket-hub.ts';
import { notificationBundle, statusParameters, type NotifiedEvent } from '../subscriptions/notification.ts';
import { readSpec, type PayloadContent } from '../subscriptions/spec.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from './types.ts';

/** Events one $events call returns at most (ask again from the next number). */
export const MAX_EVENTS = 1000;

export async function subscriptionStatus(
  req: FhirRequest,
  ctx: InteractionContext,
  id?: string,
): Promise<FhirResponse> {
  const params = operationParameters(req);
  const ids = id ? [id] : (params.get('id') ?? []).flatMap((v) => v.split(',')).filter(Boolean);
  const statuses = (params.get('status') ?? []).flatMap((v) => v.split(','));
  let subscriptions: Subscription[];
  if (id || ids.length) {
    subscriptions = [];
    for (const one of ids) {
      try {
        subscriptions.push(JSON.parse((await ctx.repo.read('Subscription', one)).content!) as Subscription);
      } catch (error) {
        if (id) throw error;
      }
    }
  } else {
    const request = parseSearch('Subscription', [], { defaultCount: MAX_EVENTS, maxCount: MAX_EVENTS, strict: true });
    const found = await ctx.repo.search(request, { withTotal: false });
    subscriptions = found.rows.map((r) => JSON.parse(r.content) as Subscription);
  }
  const db = await ctx.repo.queryable();
  const entries = [];
  for (const s of subscriptions) {
    if (statuses.length && !statuses.includes(s.status)) continue;
    const spec = readSpec(s);
    const status = statusParameters(
      {
        baseUrl: ctx.baseUrl,
        subscriptionId: s.id!,
        topic: spec.topic?.url,
        status: s.status,
        type: 'query-status',
        eventsSinceStart: await eventCount(db, s.id!),
        error: s.error,
      },
      [],
      spec.content,
    );
    entries.push({ fullUrl: `urn:uuid:${status.id}`, resource: status, search: { mode: 'match' as const } });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries };
  return { status: 200, body: bundle };
}

export async function subscriptionEvents(req: FhirRequest, ctx: InteractionContext, id: string): Promise<FhirResponse> {
  const subscription = JSON.parse((await ctx.repo.read('Subscription', id)).content!) as Subscription;
  const spec = readSpec(subscription);
  const params = operationParameters(req);
  const db = await ctx.repo.queryable();
  const count = await eventCount(db, id);
  const since = numberParam(params, 'eventsSinceNumber') ?? 1;
  const until = Math.min(numberParam(params, 'eventsUntilNumber') ?? count, count);
  const content = contentParam(params) ?? spec.content;
  const stored = until >= since ? await readEventsWithFocus(db, id, since, until, MAX_EVENTS) : [];
  const events: NotifiedEvent[] = [];
  for (const e of stored) {
    const deleted = e.method === 'DELETE';
    const resource = await visibleVersion(ctx, e.focusType, e.focusId, deleted ? e.focusVersion - 1 : e.focusVersion);
    events.push({
      number: e.eventNumber,
      occurred: e.occurred,
      focus: { resourceType: e.focusType, id: e.focusId, versionId: e.focusVersion },
      method: e.method as NotifiedEvent['method'],
      resource: deleted ? undefined : resource,
      withheld: !resource,
    });
  }
  const delivery = await readDelivery(db, id);
  const bundle = notificationBundle(
    {
      baseUrl: ctx.baseUrl,
      subscriptionId: id,
      topic: spec.topic?.url,
      status: delivery?.status ?? subscription.status,
      type: 'query-event',
      eventsSinceStart: count,
    },
    events,
    content,
  );
  return { status: 200, body: bundle };
}

/**
 * `$get-ws-binding-token` (instance, or type level with `id`s): a token that
 * binds a websocket to those of the caller's websocket subscriptions, with
 * its expiry and the websocket URL. Only a hash of it is kept.
 */
export async function wsBindingToken(req: FhirRequest, ctx: InteractionContext, id?: string): Promise<FhirResponse> {
  const ids = id ? [id] : (operationParameters(req).get('id') ?? []).flatMap((v) => v.split(',')).filter(Boolean);
  if (!ids.length) throw new FhirError('invalid', '$get-ws-binding-token needs the id of at least one Subscription');
  for (const one of ids) {
    const subscription = JSON.parse((await ctx.repo.read('Subscription', one)).content!) as Subscription;
    if (subscription.channel.type !== 'websocket') {
      throw new FhirError('business-rule', `Subscription/${one} does not use the websocket channel`);
    }
  }
  const token = randomBytes(32).toString('base64url');
  const expiration = new Date(Date.now() + BINDING_TOKEN_SECONDS * 1000).toISOString();
  await saveBindingToken(await ctx.repo.queryable(), hashToken(token), ids, expiration);
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'token', valueString: token },
      { name: 'expiration', valueDateTime: expiration },
      ...ids.map((s) => ({ name: 'subscription', valueString: s })),
      { name: 'websocket-url', valueUrl: socketUrl(ctx.baseUrl) },
    ],
  };
  return { status: 200, body: parameters };
}

/** The version, if the caller may read it (scopes and relationship, as vread decides). */
async function visibleVersion(
  ctx: InteractionContext,
  type: string,
  id: string,
  versionId: number,
): Promise<Resource | undefined> {
  const queries = restrictions(ctx.access, type, 'r');
  if (queries !== undefined) return undefined;
  try {
    return JSON.parse((await ctx.repo.vread(type, id, versionId)).content!) as Resource;
  } catch {
    return undefined;
  }
}

/** Operation parameters: the query string, and a POSTed Parameters resource's values. */
function operationParameters(req: FhirRequest): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: string) => out.set(name, [...(out.get(name) ?? []), value]);
  for (const [k, v] of req.query) add(k, v);
  const body = req.body as Parameters | undefined;
  if (req.method === 'POST' && body?.resourceType === 'Parameters') {
    for (const p of body.parameter ?? []) {
      const value = p.valueString ?? p.valueCode ?? p.valueUri ?? p.valueCanonical ?? p.valueId;
      if (value !== undefined) add(p.name!, String(value));
    }
  }
  return out;
}

function numberParam(params: Map<string, string[]>, name: string): number | undefined {
  const raw = params.get(name)?.[0];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new FhirError('invalid', `${name} must be a whole number; got "${raw}"`);
  return n;
}

function contentParam(params: Map<string, string[]>): PayloadContent | undefined {
  const raw = params.get('content')?.[0];
  if (raw === undefined) return undefined;
  if (raw !== 'empty' && raw !== 'id-only' && raw !== 'full-resource') {
    throw new FhirError('invalid', `content must be empty, id-only or full-resource; got "${raw}"`);
  }
  return raw;
}
