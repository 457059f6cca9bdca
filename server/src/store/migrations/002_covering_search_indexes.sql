-- Search indexes that answer from the index alone (index-only scans), measured
-- at a million resources (docs/benchmarks.md, "Search at scale"):
-- * a lookup index ends with the owner id, so finding the resources with a
--   value reads no table rows, and checking one candidate resource for a value
--   is one descent (resource_type, code, value, id);
-- * an owner index is keyed (resource_type, id, code) and carries the values,
--   so a sort key or a filter on a candidate is read from the index;
-- * dates and numbers get an index on the upper end of their range for gt, ge
--   and eb (a range on lo alone cannot bound those).
-- The table rows are still needed for :exact, :text and :contains.

SET LOCAL maintenance_work_mem = '512MB';

DROP INDEX sp_token_lookup, sp_token_owner;
CREATE INDEX sp_token_lookup ON sp_token (resource_type, code, value, id) INCLUDE (system);
CREATE INDEX sp_token_owner ON sp_token (resource_type, id, code) INCLUDE (value, system);

DROP INDEX sp_string_lookup, sp_string_owner;
CREATE INDEX sp_string_lookup ON sp_string (resource_type, code, norm text_pattern_ops) INCLUDE (id);
CREATE INDEX sp_string_owner ON sp_string (resource_type, id, code) INCLUDE (norm);

DROP INDEX sp_reference_lookup, sp_reference_target, sp_reference_owner;
CREATE INDEX sp_reference_lookup ON sp_reference (resource_type, code, target_id, target_type, id);
CREATE INDEX sp_reference_target ON sp_reference (target_type, target_id) INCLUDE (resource_type, id, code);
CREATE INDEX sp_reference_owner ON sp_reference (resource_type, id, code) INCLUDE (target_type, target_id, target);

DROP INDEX sp_date_lookup, sp_date_owner;
CREATE INDEX sp_date_lookup ON sp_date (resource_type, code, lo) INCLUDE (hi, id);
CREATE INDEX sp_date_upper ON sp_date (resource_type, code, hi) INCLUDE (lo, id);
CREATE INDEX sp_date_owner ON sp_date (resource_type, id, code) INCLUDE (lo, hi);

DROP INDEX sp_number_lookup, sp_number_owner;
CREATE INDEX sp_number_lookup ON sp_number (resource_type, code, lo) INCLUDE (hi, id);
CREATE INDEX sp_number_upper ON sp_number (resource_type, code, hi) INCLUDE (lo, id);
CREATE INDEX sp_number_owner ON sp_number (resource_type, id, code) INCLUDE (lo, hi);

DROP INDEX sp_quantity_lookup, sp_quantity_owner;
CREATE INDEX sp_quantity_lookup ON sp_quantity (resource_type, code, value) INCLUDE (system, unit, id);
CREATE INDEX sp_quantity_owner ON sp_quantity (resource_type, id, code) INCLUDE (value);

DROP INDEX sp_uri_lookup, sp_uri_owner;
CREATE INDEX sp_uri_lookup ON sp_uri (resource_type, code, value) INCLUDE (id);
CREATE INDEX sp_uri_owner ON sp_uri (resource_type, id, code) INCLUDE (value);
