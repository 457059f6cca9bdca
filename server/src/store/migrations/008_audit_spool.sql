-- The audit trail's spool (server/src/audit/trail.ts): how far each node's
-- segment files have been shipped into audit_event, updated in the same
-- transaction as the rows, so shipping resumes exactly where it stopped.
CREATE TABLE audit_spool (
  segment text   PRIMARY KEY,
  shipped bigint NOT NULL
);
-- This database's identity: spools are kept in a folder per database, so a
-- data folder shared by servers of different databases never mixes them.
CREATE TABLE hearth_instance (
  id text PRIMARY KEY
);
INSERT INTO hearth_instance (id) VALUES (md5(random()::text || clock_timestamp()::text));
