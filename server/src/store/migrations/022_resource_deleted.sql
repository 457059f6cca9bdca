-- Bulk Data `_since` exports list the resources deleted since (docs/bulk-export.md
-- "Deleted resources"): the current rows that are deletions, type by type in id
-- order. Few rows are deletions, so a partial index finds them without reading
-- every row of the type.
CREATE INDEX resource_deleted ON resource (resource_type, id) WHERE deleted;
