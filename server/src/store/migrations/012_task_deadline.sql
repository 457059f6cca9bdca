-- Pending Task deadlines (issue 7: response clocks and breach detection;
-- server/src/workflow/deadline.ts, breach-watch.ts). One row per open Task
-- whose restriction.period.end is set and not yet marked breached (the
-- task-breach extension), written with the Task's version in the same
-- statement as its search index rows and replaced or removed with them, so
-- the breach watch finds what is due with one range scan on `due`, however
-- many Tasks are open or long overdue.
CREATE TABLE task_deadline (
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  code          text        NOT NULL,  -- 'due'
  due           timestamptz NOT NULL
);
CREATE INDEX task_deadline_due ON task_deadline (due) INCLUDE (resource_type, id);
CREATE INDEX task_deadline_owner ON task_deadline (resource_type, id);

-- Every node's breach watch learns of a new deadline when its write commits
-- (it may be sooner than the one it sleeps until). Only writes that add a
-- deadline notify; PostgreSQL sends one per transaction.
CREATE FUNCTION task_deadline_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hearth_task_deadline', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER task_deadline_added AFTER INSERT ON task_deadline
  FOR EACH ROW EXECUTE FUNCTION task_deadline_notify();

-- Tasks written before this migration: a dateTime is due at that instant, a
-- date at the end of that day (UTC). Coarser dates (a month, a year) are left
-- to the reindex command (`pnpm --filter @hearth/server reindex`), which
-- rebuilds these rows with the other index rows.
INSERT INTO task_deadline (resource_type, id, code, due)
SELECT 'Task', id, 'due',
       CASE WHEN position('T' IN t.end_text) > 0 THEN t.end_text::timestamptz
            ELSE ((t.end_text::date + 1)::timestamp AT TIME ZONE 'UTC') - interval '1 millisecond' END
  FROM (SELECT id, content::jsonb AS doc, content::jsonb #>> '{restriction,period,end}' AS end_text
          FROM resource WHERE resource_type = 'Task' AND NOT deleted) t
 WHERE t.end_text IS NOT NULL
   AND (position('T' IN t.end_text) > 0 OR length(t.end_text) = 10)
   AND t.doc ->> 'status' IN ('requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold')
   AND NOT coalesce(t.doc -> 'extension', '[]'::jsonb)
           @> '[{"url": "https://hearth.example/fhir/StructureDefinition/task-breach"}]'::jsonb;
