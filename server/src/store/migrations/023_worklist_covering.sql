-- "My tasks" by priority score (docs/benchmarks.md "Neighbourhood workflow"):
-- the owner's worklist rows are read and scored before any resource is
-- (search/order.ts, a projection driving the page). Covering indexes let
-- both reads be index-only: an owner's rows sit together in the index
-- instead of one heap page each, and a person's risk is one index probe.
DROP INDEX task_worklist_owner;
CREATE INDEX task_worklist_owner ON task_worklist (owner_id, status)
  INCLUDE (owner_type, id, priority, due, authored, patient_id, part_of);
CREATE UNIQUE INDEX patient_risk_cover ON patient_risk (patient_id) INCLUDE (risk_code);
