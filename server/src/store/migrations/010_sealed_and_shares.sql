-- Sealed sensitive data and restricted roles (server/src/auth/sealing.ts,
-- restricted.ts, shares.ts; docs/security-restricted.md).
--
-- resource.sealed: the v3-Confidentiality level of the current version's
-- meta.security (0 none, 1 R, 2 V; a deletion keeps the level of the version
-- it deleted; a Provenance takes its target's), kept on the row so access
-- control filters searches, includes, chains and counts in the same query
-- (`r.sealed <= n`) as it filters patients.
ALTER TABLE resource ADD COLUMN sealed smallint NOT NULL DEFAULT 0 CHECK (sealed BETWEEN 0 AND 2);
-- Backfill (labelled rows are few: the LIKE keeps the JSON parse to them).
CREATE FUNCTION pg_temp.seal_level(content text) RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN content::jsonb -> 'meta' -> 'security'
         @> '[{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"}]' THEN 2
    WHEN content::jsonb -> 'meta' -> 'security'
         @> '[{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]' THEN 1
    ELSE 0 END::smallint
$$;
UPDATE resource SET sealed = pg_temp.seal_level(content) WHERE content LIKE '%v3-Confidentiality%';
-- A deleted row: the level of the version it deleted.
UPDATE resource r SET sealed = pg_temp.seal_level(v.content)
  FROM resource_version v
 WHERE r.deleted AND v.resource_type = r.resource_type AND v.id = r.id AND v.version_id = r.version_id - 1
   AND v.content LIKE '%v3-Confidentiality%';
-- A Provenance is seen with what it is about: the highest level of its targets.
UPDATE resource p SET sealed = t.sealed
  FROM (SELECT x.id, max(t.sealed) AS sealed FROM sp_reference x
          JOIN resource t ON t.resource_type = x.target_type AND t.id = x.target_id
         WHERE x.resource_type = 'Provenance' AND x.code = 'target' GROUP BY x.id) t
 WHERE p.resource_type = 'Provenance' AND p.id = t.id AND t.sealed > 0;
-- Fails closed as resource.patients does (migration 008): a node still running
-- code from before this migration inserts rows without the column, and with a
-- default of 0 a sealed resource it wrote would be shown to everyone. Without
-- a default such an insert fails. After a rolling upgrade, once the last old
-- node has stopped, `pnpm --filter @hearth/server reindex` recomputes the
-- level of rows their updates left.
ALTER TABLE resource ALTER COLUMN sealed DROP DEFAULT;

-- Shares (auth/shares.ts): relationship rows of basis 'share' give a party one
-- resource (`target`, Type/id) rather than a patient's record. Rows written
-- before this migration have none: a restricted role sees less (never more)
-- until `reindex` has recomputed the Tasks and CarePlans
-- (`pnpm --filter @hearth/server reindex Task CarePlan`).
ALTER TABLE access_relationship ADD COLUMN target text;

-- Systems (SMART Backend Services clients) carry the sensitive-data activity
-- by registration; users by their PractitionerRole.code.
ALTER TABLE auth_client ADD COLUMN sensitive_data boolean NOT NULL DEFAULT false;
