-- Every version of every resource (append-only history) and the current version
-- of each (one primary-key lookup for read). `seq` numbers versions globally in
-- write order; history and paging are pinned to it.
CREATE TABLE resource_version (
  seq           bigserial PRIMARY KEY,
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  method        text        NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
  content       text,       -- NULL for a deletion
  UNIQUE (resource_type, id, version_id)
);
CREATE INDEX resource_version_type_seq ON resource_version (resource_type, seq);
CREATE INDEX resource_version_updated ON resource_version (last_updated);

CREATE TABLE resource (
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL,
  seq           bigint      NOT NULL,
  content       text,       -- NULL when deleted
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX resource_type_updated ON resource (resource_type, last_updated) WHERE NOT deleted;

-- Search index: one table per search parameter type, rows extracted on write in
-- the same transaction as the version they describe (current versions only).
CREATE TABLE sp_token (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  system        text,
  value         text,           -- the code/value; NULL for a text-only row
  text          text            -- display or CodeableConcept.text, for :text
);
CREATE INDEX sp_token_lookup ON sp_token (resource_type, code, value, system);
CREATE INDEX sp_token_owner ON sp_token (resource_type, id);

CREATE TABLE sp_string (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  value         text NOT NULL,  -- as written (for :exact)
  norm          text NOT NULL   -- lower case, accents removed (default and :contains)
);
CREATE INDEX sp_string_lookup ON sp_string (resource_type, code, norm text_pattern_ops);
CREATE INDEX sp_string_owner ON sp_string (resource_type, id);

CREATE TABLE sp_reference (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  target        text NOT NULL,  -- as written: Type/id, absolute URL, or Type/id/_history/n
  target_type   text,
  target_id     text
);
CREATE INDEX sp_reference_lookup ON sp_reference (resource_type, code, target_id, target_type);
CREATE INDEX sp_reference_target ON sp_reference (target_type, target_id);
CREATE INDEX sp_reference_owner ON sp_reference (resource_type, id);

CREATE TABLE sp_date (
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  code          text        NOT NULL,
  lo            timestamptz NOT NULL,  -- start of the implicit range (-infinity if open)
  hi            timestamptz NOT NULL   -- end of the implicit range (infinity if open)
);
CREATE INDEX sp_date_lookup ON sp_date (resource_type, code, lo, hi);
CREATE INDEX sp_date_owner ON sp_date (resource_type, id);

CREATE TABLE sp_number (
  resource_type text    NOT NULL,
  id            text    NOT NULL,
  code          text    NOT NULL,
  lo            numeric,
  hi            numeric
);
CREATE INDEX sp_number_lookup ON sp_number (resource_type, code, lo, hi);
CREATE INDEX sp_number_owner ON sp_number (resource_type, id);

CREATE TABLE sp_quantity (
  resource_type text    NOT NULL,
  id            text    NOT NULL,
  code          text    NOT NULL,
  value         numeric,
  system        text,
  unit          text
);
CREATE INDEX sp_quantity_lookup ON sp_quantity (resource_type, code, value);
CREATE INDEX sp_quantity_owner ON sp_quantity (resource_type, id);

CREATE TABLE sp_uri (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  value         text NOT NULL
);
CREATE INDEX sp_uri_lookup ON sp_uri (resource_type, code, value);
CREATE INDEX sp_uri_owner ON sp_uri (resource_type, id);
