-- The patient an authorization code was granted for (SMART launch/patient,
-- patient/ scopes): chosen at sign-in, carried into the access token.
ALTER TABLE auth_code ADD COLUMN patient text;
