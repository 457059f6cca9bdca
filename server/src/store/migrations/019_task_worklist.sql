-- The task worklist (workflow/task-worklist-sql.ts): one narrow row per
-- current Task with what "my tasks" and "team tasks" filter and sort on
-- (owner, status) and the time-independent inputs of the priority score
-- (clinical priority, the Tasks it is part of, its person), with its due and
-- authored times for the points that grow with time; and each person's
-- latest risk (patient_risk). A Task's row is refreshed in its write's
-- transaction before anything in that transaction reads (so its own searches
-- see it); a person's risk before COMMIT of a RiskAssessment write. So
-- `Task?owner=…&status=…` reads the owner's rows by index and
-- `_sort=-priority-score` one row per task (and its person's risk) instead of
-- five index lookups per task. Worked out from the search index by the same
-- SQL at build (server start, after a reindex) and at every refresh.
CREATE TABLE task_worklist (
  id          text        PRIMARY KEY,
  patient_id  text,
  owner_type  text,
  owner_id    text,
  status      text,
  priority    text,
  due         timestamptz,
  authored    timestamptz,
  part_of     text[]      NOT NULL
);
CREATE INDEX task_worklist_owner ON task_worklist (owner_id, status);

CREATE TABLE patient_risk (
  patient_id  text        PRIMARY KEY,
  risk_code   text        NOT NULL
);

CREATE TABLE task_worklist_state (built boolean NOT NULL);
INSERT INTO task_worklist_state VALUES (false);
