-- The task worklist (workflow/task-worklist-sql.ts): one narrow row per
-- current Task with what "my tasks" and "team tasks" filter and sort on
-- (owner, status) and the time-independent inputs of the priority score
-- (clinical priority, the person's latest risk, the Tasks it is part of),
-- with its due and authored times for the points that grow with time.
-- Refreshed in the transaction of every write that can change it (a Task, or
-- a RiskAssessment of the Task's person), so `Task?owner=…&status=…` reads
-- the owner's rows by index and `_sort=-priority-score` one row per task
-- instead of five index lookups per task. Worked out from the search index by
-- the same SQL at build (server start, after a reindex) and at every refresh.
CREATE TABLE task_worklist (
  id          text        PRIMARY KEY,
  patient_id  text,
  owner_type  text,
  owner_id    text,
  status      text,
  priority    text,
  due         timestamptz,
  authored    timestamptz,
  part_of     text[]      NOT NULL,
  risk_code   text
);
CREATE INDEX task_worklist_owner ON task_worklist (owner_id, status);
CREATE INDEX task_worklist_patient ON task_worklist (patient_id);

CREATE TABLE task_worklist_state (built boolean NOT NULL);
INSERT INTO task_worklist_state VALUES (false);
