-- The caseload summary (workflow/caseload-sql.ts): one row per active
-- EpisodeOfCare and team, with what the caseload shows of the person,
-- refreshed in the transaction of every write that can change it. A team's
-- caseload is then one indexed query (team_id) instead of index lookups per
-- person per request. resource_type, id, patients and sealed are the
-- episode's, so the access filter (search/access.ts) applies to rows as to
-- resources. Filled by the server at start when caseload_state.built is false
-- (store/caseload.ts ensureCaseloadBuilt), so it is worked out by the same SQL
-- as every refresh.
CREATE TABLE caseload_entry (
  resource_type    text        NOT NULL DEFAULT 'EpisodeOfCare',
  id               text        NOT NULL,
  team_id          text        NOT NULL,
  patient_id       text        NOT NULL,
  patients         text[]      NOT NULL,
  sealed           smallint    NOT NULL,
  coordinator_type text,
  coordinator_id   text,
  family           text,
  open_tasks       integer     NOT NULL,
  next_due         timestamptz,
  next_task        text,
  last_contact     timestamptz,
  plan_id          text,
  assessment_id    text,
  risk_code        text,
  probability      numeric,
  risk_rank        integer,
  PRIMARY KEY (team_id, id)
);
CREATE INDEX caseload_entry_patient ON caseload_entry (patient_id);

CREATE TABLE caseload_state (built boolean NOT NULL);
INSERT INTO caseload_state VALUES (false);
