-- The patients each current resource is about (its derived `_patient`
-- references: the compartments it is in), kept on the row itself so access
-- control filters searches and reads without a join (`patients <@ visible`),
-- and the audit trail learns whose data a page held from the page itself.
ALTER TABLE resource ADD COLUMN patients text[] NOT NULL DEFAULT '{}';
UPDATE resource r SET patients = p.patients
  FROM (SELECT resource_type, id, array_agg(DISTINCT target_id) AS patients
          FROM sp_reference WHERE code = '_patient' GROUP BY resource_type, id) p
 WHERE r.resource_type = p.resource_type AND r.id = p.id;
