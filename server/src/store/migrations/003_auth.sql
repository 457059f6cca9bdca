-- The built-in SMART authorization server (server/src/auth/): its signing keys
-- (shared by every node), the registered clients, and the client assertion
-- ids (jti) seen, kept until the assertion expires (replay protection).
CREATE TABLE auth_signing_key (
  kid         text PRIMARY KEY,
  alg         text        NOT NULL,
  private_jwk jsonb       NOT NULL,
  public_jwk  jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_client (
  client_id    text PRIMARY KEY,
  name         text        NOT NULL,
  jwks         jsonb,                -- public keys by value, or
  jwks_uri     text,                 -- by URL
  scope        text        NOT NULL, -- the scopes it may be granted, space-separated
  organization text,                 -- Organization/id it acts for
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (jwks IS NOT NULL OR jwks_uri IS NOT NULL)
);

CREATE TABLE auth_jti (
  client_id  text        NOT NULL,
  jti        text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX auth_jti_expiry ON auth_jti (expires_at);
