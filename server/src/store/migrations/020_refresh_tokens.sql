-- Refresh tokens of the built-in SMART authorization server
-- (auth/refresh-tokens.ts, docs/security-tokens.md). A grant is one sign-in's
-- permission to refresh (online_access or offline_access): its client, user,
-- role, organisation, scopes and patient, and when it ends (the sign-in
-- session's end, or the offline lifetime). Each refresh token is one link of
-- its grant's rotation chain, kept as a SHA-256 hash: used once, then replaced;
-- a used one presented again revokes the whole grant (stolen-token detection).
CREATE TABLE auth_refresh_grant (
  id                uuid        PRIMARY KEY,
  client_id         text        NOT NULL,
  username          text        NOT NULL,
  practitioner_role text        NOT NULL,  -- PractitionerRole/id chosen at sign-in
  organization      text        NOT NULL,  -- Organization/id of that role at sign-in
  scope             text        NOT NULL,  -- granted at sign-in: the ceiling of every refresh
  patient           text,                  -- launch context (Patient id), if any
  access            text        NOT NULL CHECK (access IN ('online', 'offline')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz NOT NULL,
  revoked_at        timestamptz,
  revoked_reason    text
);
CREATE INDEX auth_refresh_grant_user ON auth_refresh_grant (username);
CREATE INDEX auth_refresh_grant_expiry ON auth_refresh_grant (expires_at);

CREATE TABLE auth_refresh_token (
  token_hash text        PRIMARY KEY,
  grant_id   uuid        NOT NULL REFERENCES auth_refresh_grant (id) ON DELETE CASCADE,
  issued_at  timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz            -- set when exchanged (rotated); presenting it again is reuse
);
CREATE INDEX auth_refresh_token_grant ON auth_refresh_token (grant_id);
