-- The audit trail (server/src/audit/): one row per AuditEvent, written by
-- group commit before the answer it records is sent. A row keeps the
-- request's compact audit record (the AuditEvent is built from it when read)
-- and the columns audit searches use: the patient (one row per patient a
-- request touched), time, request id, outcome, interaction, who, break-glass.
-- Append-only: nothing updates or deletes rows. Ids are sequential, so rows
-- arrive in id order, roughly in time order, and the indexes stay cheap to
-- keep up: a B-tree per patient and per request id, a BRIN on time.
CREATE TABLE audit_event (
  id          bigserial   PRIMARY KEY,
  recorded    timestamptz NOT NULL,
  patient_id  text,
  request_id  text,
  outcome     text        NOT NULL,
  type        text        NOT NULL,  -- system|code of AuditEvent.type
  subtype     text        NOT NULL,  -- system|code of AuditEvent.subtype
  agent       text,                  -- the requesting user's PractitionerRole, or the organisation
  altid       text,                  -- the user's username
  break_glass boolean     NOT NULL,
  record      text        NOT NULL
);
CREATE INDEX audit_event_patient ON audit_event (patient_id, id);
CREATE INDEX audit_event_request ON audit_event (request_id);
CREATE INDEX audit_event_recorded ON audit_event USING brin (recorded);
