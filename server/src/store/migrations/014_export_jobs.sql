-- Bulk Data $export (docs/bulk-export.md): one row per export job, claimed by
-- a worker on any node with FOR UPDATE SKIP LOCKED and a lease; where it
-- stands (the type it is on and the last id written) advances in the same
-- transaction as the page of NDJSON it wrote, so a job resumed after a crash
-- writes each resource exactly once.
CREATE TABLE export_job (
  id               text PRIMARY KEY,
  -- Who started it (client, and the user's role or practitioner): only they see its status and files.
  owner            text        NOT NULL,
  -- Their identity and scopes: the worker selects what they may see (auth/guard.ts).
  caller           jsonb       NOT NULL,
  -- The kick-off URL and its parsed parameters (jobs/export-request.ts).
  request          text        NOT NULL,
  params           jsonb       NOT NULL,
  -- queued | running | done | error
  status           text        NOT NULL,
  transaction_time timestamptz NOT NULL,
  -- resource_version.seq at kick-off: resources created later are left out.
  pin              bigint      NOT NULL,
  -- The types to export, in order; the one being written and the last id written of it.
  types            text[]      NOT NULL,
  type_index       integer     NOT NULL DEFAULT 0,
  after_id         text        NOT NULL DEFAULT '',
  exported         bigint      NOT NULL DEFAULT 0,
  error            text,
  lease_owner      text,
  lease_until      timestamptz,
  created          timestamptz NOT NULL DEFAULT now(),
  finished         timestamptz
);
CREATE INDEX export_job_pending ON export_job (created) WHERE status IN ('queued', 'running');

-- The NDJSON output: one row per page written (a file is its type's parts in order).
CREATE TABLE export_output (
  job_id        text    NOT NULL REFERENCES export_job (id) ON DELETE CASCADE,
  resource_type text    NOT NULL,
  part          integer NOT NULL,
  count         integer NOT NULL,
  content       text    NOT NULL,
  PRIMARY KEY (job_id, resource_type, part)
);
