-- Collaboration (issue 7 item 5): what each reader has read, and when each
-- reader last looked at a patient's changes. A reader is a person (a user's
-- Practitioner, whatever role they sign in with) or, for a system token, its
-- client ("client:<id>"). State of the people using Hearth, not clinical
-- data: it is not a FHIR resource and has no history.

-- Communication/$mark-read: one row per message a reader has read; $unread
-- lists the messages addressed to them that have none (anti-join on the key).
CREATE TABLE communication_read (
  reader text NOT NULL,
  communication_id text NOT NULL,
  read_at timestamptz NOT NULL,
  PRIMARY KEY (reader, communication_id)
);

-- Patient/$changes without `since`: changes since the reader's last look.
CREATE TABLE patient_last_look (
  reader text NOT NULL,
  patient_id text NOT NULL,
  looked_at timestamptz NOT NULL,
  PRIMARY KEY (reader, patient_id)
);
