-- BaRS messages received on POST /$process-message (workflow/bars/): one row
-- per X-Request-ID + X-Correlation-ID pair, claimed before the message is
-- processed (transactional integrity, STANDARDS.md §1.5), so a retry of a
-- message is recognised whatever happened to the first attempt:
--   processing: the first attempt is still running (a retry gets 425);
--   completed:  it was processed (set in the transaction of its writes; a retry gets 409 duplicate);
--   failed:     it was refused with a 4xx (a retry gets the same status and OperationOutcome).
-- The row is also the audit record of a processed message: who sent it
-- (client, decoded NHSD-End-User-Organisation / NHSD-Requesting-Practitioner),
-- where replies go (MessageHeader.source.endpoint) and the referral it created
-- or changed (ServiceRequest, Task).
CREATE TABLE bars_message (
  request_id              text        NOT NULL,
  correlation_id          text        NOT NULL,
  state                   text        NOT NULL CHECK (state IN ('processing', 'completed', 'failed')),
  received                timestamptz NOT NULL DEFAULT now(),
  -- When the current attempt started (an attempt abandoned by a crashed node is taken over after a while).
  started                 timestamptz NOT NULL DEFAULT now(),
  finished                timestamptz,
  client_id               text,
  -- Bundle.id of the message (what a later servicerequest-response names in MessageHeader.response.identifier).
  bundle_id               text,
  event                   text,
  reason                  text,
  -- MessageHeader.source.endpoint: the sender's reply address.
  source_endpoint         text,
  end_user_organisation   jsonb,
  requesting_practitioner jsonb,
  service_request_id      text,
  task_id                 text,
  -- A failure: its HTTP status and OperationOutcome, answered again to a retry.
  status                  integer,
  outcome                 jsonb,
  PRIMARY KEY (request_id, correlation_id)
);
CREATE INDEX bars_message_bundle ON bars_message (bundle_id);
CREATE INDEX bars_message_service_request ON bars_message (service_request_id);
