-- Legitimate-relationship access (server/src/auth/relationships.ts, policy.ts).
-- access_relationship holds, for each current resource that creates one, the
-- relationships it establishes: a party (Organization, PractitionerRole,
-- Practitioner, CareTeam, or '*') related to a patient on some basis
-- (registration, caseload, care-team, referral, consent), permitting or
-- denying, from `starts` until `ends`. Team memberships are rows of basis
-- 'member' without a patient (the team is the owning CareTeam). The rows are
-- written with the version in the same statement as the search index rows,
-- and replaced or removed with them.
CREATE TABLE access_relationship (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,  -- the basis
  patient_id    text,
  party         text NOT NULL,
  effect        text NOT NULL CHECK (effect IN ('permit', 'deny')),
  starts        timestamptz,
  ends          timestamptz
);
CREATE INDEX access_relationship_party ON access_relationship (party, patient_id) INCLUDE (code, effect, starts, ends);
CREATE INDEX access_relationship_owner ON access_relationship (resource_type, id);

-- Users who sign in (SMART authorization code + PKCE): a password hash
-- (scrypt, memory-hard) and the roles they may act in; a user with several
-- roles chooses one per sign-in.
CREATE TABLE auth_user (
  username      text PRIMARY KEY,
  password_hash text        NOT NULL,
  practitioner  text        NOT NULL,  -- Practitioner/id
  name          text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE auth_user_role (
  username          text NOT NULL REFERENCES auth_user (username) ON DELETE CASCADE,
  practitioner_role text NOT NULL,  -- PractitionerRole/id
  organization      text NOT NULL,  -- Organization/id
  PRIMARY KEY (username, practitioner_role)
);

-- Public clients (browser apps: no keys, PKCE only) and their redirect URIs;
-- system clients may be allowed every patient (population-health jobs).
ALTER TABLE auth_client ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}';
ALTER TABLE auth_client ADD COLUMN all_patients boolean NOT NULL DEFAULT false;
ALTER TABLE auth_client DROP CONSTRAINT auth_client_check;
ALTER TABLE auth_client ADD CONSTRAINT auth_client_keys_or_redirects
  CHECK (jwks IS NOT NULL OR jwks_uri IS NOT NULL OR cardinality(redirect_uris) > 0);

-- Authorization codes: one use, 60 seconds, bound to client, redirect URI and
-- PKCE challenge; kept as SHA-256 hashes.
CREATE TABLE auth_code (
  code_hash         text PRIMARY KEY,
  client_id         text        NOT NULL,
  redirect_uri      text        NOT NULL,
  code_challenge    text        NOT NULL,
  username          text        NOT NULL,
  practitioner_role text        NOT NULL,
  scope             text        NOT NULL,
  expires_at        timestamptz NOT NULL
);
