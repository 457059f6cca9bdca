-- The task worklist's rows drive "my tasks" searches (search/order.ts: a
-- projection driving the page query): the owner's rows are read, scored or
-- sorted, and only the page's Tasks are read after. The rows also hold the
-- start of Task.executionPeriod (search parameter `period`), so a worklist
-- sorted by priority and period is sorted from them too; existing rows are
-- rebuilt at the next start. Covering indexes make both reads index-only: an
-- owner's rows sit together in the index instead of one heap page each, and a
-- person's risk is one index probe (docs/benchmarks.md "Neighbourhood workflow").
ALTER TABLE task_worklist ADD COLUMN period_start timestamptz;
UPDATE task_worklist_state SET built = false;
DROP INDEX task_worklist_owner;
CREATE INDEX task_worklist_owner ON task_worklist (owner_id, status)
  INCLUDE (owner_type, id, priority, due, authored, patient_id, part_of, period_start);
CREATE UNIQUE INDEX patient_risk_cover ON patient_risk (patient_id) INCLUDE (risk_code);
