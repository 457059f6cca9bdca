-- Subscriptions (STANDARDS.md §4): the events each subscription has had,
-- numbered gap-free, and where its delivery stands.
--
-- subscription_counter: one row per Subscription; a write that matches it
-- bumps `events` in the write's own transaction (the row lock orders its
-- events as their writes commit) and inserts the events with those numbers,
-- so an event exists if and only if its change committed.
CREATE TABLE subscription_counter (
  id text PRIMARY KEY,
  events bigint NOT NULL DEFAULT 0
);

-- The outbox: every event of every subscription, kept for $events (replay)
-- for the retention period whatever happened to its delivery.
CREATE TABLE subscription_event (
  subscription_id text NOT NULL,
  event_number bigint NOT NULL,
  occurred timestamptz NOT NULL,
  focus_type text NOT NULL,
  focus_id text NOT NULL,
  -- The version the event is about (a deletion's version for a delete).
  focus_version integer NOT NULL,
  method text NOT NULL,
  PRIMARY KEY (subscription_id, event_number)
);
CREATE INDEX subscription_event_occurred ON subscription_event (occurred);

-- Delivery (rest-hook; websocket clients are pushed from the same events):
-- claimed by one worker of the fleet at a time with FOR UPDATE SKIP LOCKED
-- and a lease, so each event is sent by one node, in order.
CREATE TABLE subscription_delivery (
  id text PRIMARY KEY,
  -- requested | active | error | off, as the Subscription resource says.
  status text NOT NULL,
  channel text NOT NULL,
  -- Who created (or last changed) the subscription: what it may deliver is what they may see
  -- (null: written with security off; with security on such a subscription delivers nothing).
  owner jsonb,
  -- The key deliveries are signed with (HMAC-SHA256); never part of the resource.
  secret text NOT NULL,
  handshake_pending boolean NOT NULL DEFAULT false,
  delivered_through bigint NOT NULL DEFAULT 0,
  failures integer NOT NULL DEFAULT 0,
  next_attempt timestamptz NOT NULL DEFAULT now(),
  last_sent timestamptz NOT NULL DEFAULT now(),
  heartbeat_seconds integer,
  lease_owner text,
  lease_until timestamptz
);
CREATE INDEX subscription_delivery_due ON subscription_delivery (next_attempt) WHERE status IN ('requested', 'active');

-- New events wake every node (delivery workers, websocket connections): the
-- payload names the subscriptions (id:last event), or is empty when too long.
CREATE FUNCTION subscription_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  payload text;
BEGIN
  SELECT string_agg(subscription_id || ':' || last, ',') INTO payload
    FROM (SELECT subscription_id, max(event_number) AS last FROM new_events GROUP BY subscription_id) s;
  IF payload IS NOT NULL AND length(payload) > 7000 THEN
    payload := '';
  END IF;
  PERFORM pg_notify('hearth_subscription_events', coalesce(payload, ''));
  RETURN NULL;
END;
$$;
CREATE TRIGGER subscription_event_inserted AFTER INSERT ON subscription_event
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION subscription_event_notify();

-- Binding tokens for websocket subscriptions ($get-ws-binding-token): a
-- client binds a socket on any node with one (`bind-with-token`) until it
-- expires. Only a hash is kept.
CREATE TABLE subscription_ws_token (
  token_hash text PRIMARY KEY,
  subscriptions text[] NOT NULL,
  expires timestamptz NOT NULL
);
