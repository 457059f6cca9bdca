-- Risk stratification (docs/population-stratify.md). A $stratify run is a
-- second kind of job in export_job (migration 014): same kick-off, lease,
-- polling and cancel; `types` are its phases ('score', 'groups'), `after_id`
-- the last patient scored, `exported` the people done, `result` what it wrote.
ALTER TABLE export_job ADD COLUMN kind text NOT NULL DEFAULT 'export';
ALTER TABLE export_job ADD COLUMN result jsonb;

-- People whose records changed since they were last stratified (an after-write
-- observer adds them in the write's transaction; the worker removes them in
-- the transaction that re-stratifies them).
CREATE TABLE stratify_queue (
  patient_id text PRIMARY KEY,
  queued     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stratify_queue_queued ON stratify_queue (queued);

-- Each person's latest result: the full run ranks its own rows for the cohort.
CREATE TABLE stratify_score (
  patient_id text PRIMARY KEY,
  run_id     text             NOT NULL,
  score      integer          NOT NULL,
  efi        double precision NOT NULL,
  band       text             NOT NULL,
  risk       text             NOT NULL,
  segment    text             NOT NULL,
  cohort     boolean          NOT NULL,
  computed   timestamptz      NOT NULL
);
CREATE INDEX stratify_score_run ON stratify_score (run_id);

-- The cohort cut-off of the last full run (one row): between runs a person
-- re-stratified is in the cohort when they rank at or ahead of it.
CREATE TABLE stratify_cutoff (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  run_id     text             NOT NULL,
  patient_id text,
  score      integer,
  efi        double precision,
  population integer          NOT NULL,
  finished   timestamptz      NOT NULL
);
