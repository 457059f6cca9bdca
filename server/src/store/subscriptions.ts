/**
 * All SQL of subscriptions: numbering events in the write's transaction, the
 * delivery state each worker claims (FOR UPDATE SKIP LOCKED, with a lease so a
 * node that dies mid-delivery gives it back), and reading events for $events.
 */
import type { Queryable } from './resources.ts';

export interface NewEvent {
  subscriptionId: string;
  occurred: string;
  focusType: string;
  focusId: string;
  focusVersion: number;
  method: string;
}

export interface StoredEvent extends NewEvent {
  eventNumber: number;
}

export interface Delivery {
  id: string;
  status: string;
  channel: string;
  owner: unknown;
  secret: string;
  handshakePending: boolean;
  deliveredThrough: number;
  failures: number;
  heartbeatSeconds: number | null;
  lastSent: string;
  /** Events numbered so far. */
  events: number;
}

/**
 * Numbers the events and stores them, in the write's transaction: each
 * subscription's counter row is locked (in id order: no deadlock between
 * writers) and bumped, so its events are numbered in the order their
 * writes commit, without gaps. Returns nothing: the insert NOTIFYs.
 */
export async function recordEvents(db: Queryable, events: NewEvent[]): Promise<void> {
  if (!events.length) return;
  await db.query({
    name: 'subscription-record-events',
    text: `WITH e AS (
             SELECT *, row_number() OVER () AS ord
               FROM jsonb_to_recordset($1::jsonb) AS x(s text, at timestamptz, t text, i text, v int, m text)),
           locked AS (
             SELECT c.id FROM subscription_counter c WHERE c.id IN (SELECT s FROM e) ORDER BY c.id FOR UPDATE),
           bumped AS (
             UPDATE subscription_counter c SET events = c.events + n.count
               FROM (SELECT s, count(*) AS count FROM e GROUP BY s) n, locked l
              WHERE c.id = n.s AND l.id = c.id
             RETURNING c.id, c.events - n.count AS before)
           INSERT INTO subscription_event (subscription_id, event_number, occurred, focus_type, focus_id, focus_version, method)
           SELECT e.s, b.before + row_number() OVER (PARTITION BY e.s ORDER BY e.ord), e.at, e.t, e.i, e.v, e.m
             FROM e JOIN bumped b ON b.id = e.s`,
    values: [
      JSON.stringify(
        events.map((e) => ({
          s: e.subscriptionId,
          at: e.occurred,
          t: e.focusType,
          i: e.focusId,
          v: e.focusVersion,
          m: e.method,
        })),
      ),
    ],
  });
}

export interface DeliveryState {
  id: string;
  status: string;
  channel: string;
  owner?: unknown;
  secret?: string;
  handshakePending: boolean;
  heartbeatSeconds?: number;
}

/**
 * After a Subscription is written (same transaction): its counter (kept) and
 * delivery state. A new one always comes with its secret; Hearth's own status
 * writes pass none and keep the one there ('' only stands in for it in the
 * row proposed before the conflict).
 */
export async function saveDelivery(db: Queryable, state: DeliveryState): Promise<void> {
  await db.query({
    name: 'subscription-save-delivery',
    text: `WITH c AS (INSERT INTO subscription_counter (id) VALUES ($1) ON CONFLICT DO NOTHING)
           INSERT INTO subscription_delivery (id, status, channel, owner, secret, handshake_pending, heartbeat_seconds,
                                              delivered_through, failures, next_attempt)
           VALUES ($1, $2, $3, $4::jsonb, COALESCE($5, ''), $6, $7,
                   COALESCE((SELECT events FROM subscription_counter WHERE id = $1), 0), 0, now())
           ON CONFLICT (id) DO UPDATE SET
             status = EXCLUDED.status, channel = EXCLUDED.channel,
             owner = COALESCE($4::jsonb, subscription_delivery.owner),
             secret = COALESCE($5, subscription_delivery.secret),
             handshake_pending = EXCLUDED.handshake_pending, heartbeat_seconds = EXCLUDED.heartbeat_seconds,
             -- Re-activation (requested again) starts delivery from the next event; missed ones are for $events.
             delivered_through = CASE WHEN EXCLUDED.handshake_pending
                                      THEN (SELECT events FROM subscription_counter WHERE id = $1)
                                      ELSE subscription_delivery.delivered_through END,
             failures = CASE WHEN EXCLUDED.handshake_pending THEN 0 ELSE subscription_delivery.failures END,
             next_attempt = now()`,
    values: [
      state.id,
      state.status,
      state.channel,
      state.owner === undefined ? null : JSON.stringify(state.owner),
      state.secret ?? null,
      state.handshakePending,
      state.heartbeatSeconds ?? null,
    ],
  });
}

export async function removeDelivery(db: Queryable, id: string): Promise<void> {
  await db.query({
    name: 'subscription-remove-delivery',
    text: 'DELETE FROM subscription_delivery WHERE id = $1',
    values: [id],
  });
}

const DELIVERY_COLUMNS = `d.id, d.status, d.channel, d.owner, d.secret, d.handshake_pending, d.delivered_through, d.failures,
  d.heartbeat_seconds, d.last_sent, c.events`;

interface DeliveryRow {
  id: string;
  status: string;
  channel: string;
  owner: unknown;
  secret: string;
  handshake_pending: boolean;
  delivered_through: string;
  failures: number;
  heartbeat_seconds: number | null;
  last_sent: Date;
  events: string;
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    status: row.status,
    channel: row.channel,
    owner: row.owner,
    secret: row.secret,
    handshakePending: row.handshake_pending,
    deliveredThrough: Number(row.delivered_through),
    failures: row.failures,
    heartbeatSeconds: row.heartbeat_seconds,
    lastSent: row.last_sent.toISOString(),
    events: Number(row.events),
  };
}

/**
 * Claims rest-hook subscriptions with work due (a handshake, undelivered
 * events, a heartbeat) for `leaseSeconds`: rows another worker holds are
 * skipped, and a lease left by a node that died runs out.
 */
export async function claimDue(db: Queryable, node: string, leaseSeconds: number, limit: number): Promise<Delivery[]> {
  const { rows } = await db.query<DeliveryRow>({
    name: 'subscription-claim-due',
    text: `WITH due AS (
             SELECT d.id FROM subscription_delivery d JOIN subscription_counter c ON c.id = d.id
              WHERE d.channel = 'rest-hook' AND d.next_attempt <= now()
                AND (d.lease_until IS NULL OR d.lease_until < now())
                AND ((d.status = 'requested' AND d.handshake_pending)
                  OR (d.status = 'active' AND (c.events > d.delivered_through
                      OR d.last_sent + make_interval(secs => d.heartbeat_seconds) <= now())))
              ORDER BY d.next_attempt LIMIT $3 FOR UPDATE OF d SKIP LOCKED)
           UPDATE subscription_delivery d SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
             FROM due, subscription_counter c
            WHERE d.id = due.id AND c.id = d.id
           RETURNING ${DELIVERY_COLUMNS}`,
    values: [node, leaseSeconds, limit],
  });
  return rows.map(toDelivery);
}

/** The delivery state of one subscription (for $status and websocket binding). */
export async function readDelivery(db: Queryable, id: string): Promise<Delivery | undefined> {
  const { rows } = await db.query<DeliveryRow>({
    name: 'subscription-read-delivery',
    text: `SELECT ${DELIVERY_COLUMNS} FROM subscription_delivery d JOIN subscription_counter c ON c.id = d.id WHERE d.id = $1`,
    values: [id],
  });
  return rows[0] && toDelivery(rows[0]);
}

/** Events numbered so far (0 for none or an unknown subscription). */
export async function eventCount(db: Queryable, id: string): Promise<number> {
  const { rows } = await db.query<{ events: string }>({
    name: 'subscription-event-count',
    text: 'SELECT events FROM subscription_counter WHERE id = $1',
    values: [id],
  });
  return rows[0] ? Number(rows[0].events) : 0;
}

/** A worker's result for a claimed subscription; the lease is released (only by its holder). */
export async function settleDelivery(
  db: Queryable,
  id: string,
  node: string,
  result: {
    deliveredThrough?: number;
    sent: boolean;
    failures: number;
    retryInMs: number;
    status?: string;
    handshakeDone?: boolean;
  },
): Promise<void> {
  await db.query({
    name: 'subscription-settle',
    text: `UPDATE subscription_delivery SET
             delivered_through = GREATEST(delivered_through, COALESCE($3, delivered_through)),
             last_sent = CASE WHEN $4 THEN now() ELSE last_sent END,
             failures = $5, next_attempt = now() + make_interval(secs => $6::float8 / 1000),
             status = COALESCE($7, status),
             handshake_pending = handshake_pending AND NOT $8,
             lease_owner = NULL, lease_until = NULL
           WHERE id = $1 AND lease_owner = $2`,
    values: [
      id,
      node,
      result.deliveredThrough ?? null,
      result.sent,
      result.failures,
      result.retryInMs,
      result.status ?? null,
      result.handshakeDone ?? false,
    ],
  });
}

/**
 * Events numbered from..to (inclusive), in order, at most `limit`, each with
 * the content of the version it is about (the deleted version for a delete;
 * null when gone): one query for a notification.
 */
export async function readEventsWithFocus(
  db: Queryable,
  id: string,
  from: number,
  to: number,
  limit: number,
): Promise<(StoredEvent & { content: string | null; sealedNow: number })[]> {
  const { rows } = await db.query<{
    event_number: string;
    occurred: Date;
    focus_type: string;
    focus_id: string;
    focus_version: number;
    method: string;
    content: string | null;
    sealed_now: number | null;
  }>({
    name: 'subscription-read-events-with-focus',
    text: `SELECT e.event_number, e.occurred, e.focus_type, e.focus_id, e.focus_version, e.method, v.content,
                  c.sealed AS sealed_now
             FROM subscription_event e
             LEFT JOIN resource_version v ON v.resource_type = e.focus_type AND v.id = e.focus_id
              AND v.version_id = CASE WHEN e.method = 'DELETE' THEN e.focus_version - 1 ELSE e.focus_version END
             LEFT JOIN resource c ON c.resource_type = e.focus_type AND c.id = e.focus_id
            WHERE e.subscription_id = $1 AND e.event_number BETWEEN $2 AND $3 ORDER BY e.event_number LIMIT $4`,
    values: [id, from, to, limit],
  });
  return rows.map((r) => ({
    subscriptionId: id,
    eventNumber: Number(r.event_number),
    occurred: r.occurred.toISOString(),
    focusType: r.focus_type,
    focusId: r.focus_id,
    focusVersion: r.focus_version,
    method: r.method,
    content: r.content,
    sealedNow: r.sealed_now ?? 0,
  }));
}

/** Forgets events older than the retention period (they can no longer be replayed). */
export async function pruneEvents(db: Queryable, olderThanDays: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'subscription-prune-events',
    text: `DELETE FROM subscription_event WHERE occurred < now() - make_interval(days => $1)`,
    values: [olderThanDays],
  });
  return rowCount ?? 0;
}

/** Current Subscription resources (JSON) that are not off: what writes are matched against. */
export async function loadSubscriptions(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ content: string }>({
    name: 'subscription-load',
    text: `SELECT r.content FROM resource r JOIN subscription_delivery d ON d.id = r.id
            WHERE r.resource_type = 'Subscription' AND NOT r.deleted AND d.status <> 'off'`,
  });
  return rows.map((r) => r.content);
}

/** Keeps a websocket binding token (its hash) for these subscriptions until it expires; forgets expired ones. */
export async function saveBindingToken(db: Queryable, tokenHash: string, subscriptions: string[], expires: string) {
  await db.query({
    name: 'subscription-save-ws-token',
    text: `WITH gone AS (DELETE FROM subscription_ws_token WHERE expires < now())
           INSERT INTO subscription_ws_token (token_hash, subscriptions, expires) VALUES ($1, $2, $3)`,
    values: [tokenHash, subscriptions, expires],
  });
}

/** The subscriptions and expiry of a binding token that has not expired. */
export async function readBindingToken(
  db: Queryable,
  tokenHash: string,
): Promise<{ subscriptions: string[]; expires: string } | undefined> {
  const { rows } = await db.query<{ subscriptions: string[]; expires: Date }>({
    name: 'subscription-read-ws-token',
    text: 'SELECT subscriptions, expires FROM subscription_ws_token WHERE token_hash = $1 AND expires > now()',
    values: [tokenHash],
  });
  return rows[0] && { subscriptions: rows[0].subscriptions, expires: rows[0].expires.toISOString() };
}
