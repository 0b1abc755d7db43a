-- Face login: the passkeys that bind a capture to a user's device, and the user's biometric
-- consent. No biometric data here: a passkey row is a public key and its metadata; a consent
-- row records which text the user agreed to and when.

CREATE TABLE webauthn_credentials (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  -- the authenticator's credential id, base64url as WebAuthn JSON carries it
  credential_id text NOT NULL CHECK (credential_id ~ '^[A-Za-z0-9_-]+$' AND length(credential_id) <= 1366),
  -- COSE-encoded public key
  public_key bytea NOT NULL,
  -- highest signature counter seen; an assertion must exceed it unless both are 0
  sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  transports text[] NOT NULL DEFAULT '{}',
  aaguid text NOT NULL,
  backup_eligible boolean NOT NULL,
  backup_state boolean NOT NULL,
  attestation_format text NOT NULL,
  device_type text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  name text NOT NULL DEFAULT '' CHECK (length(name) <= 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, credential_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (tenant_id, user_id);

-- History of consents: a user gives, revokes and gives again; at most one is in force.
CREATE TABLE biometric_consents (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  text_version text NOT NULL,
  given_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, user_id, given_at),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX biometric_consents_in_force ON biometric_consents (tenant_id, user_id) WHERE revoked_at IS NULL;

SELECT isolate_by_tenant('webauthn_credentials', 'biometric_consents');

GRANT SELECT, INSERT, UPDATE, DELETE ON webauthn_credentials TO facegate_app;
-- consents are a record: the app adds them and marks them revoked, it never deletes one
-- (deleting the user removes them with the account)
GRANT SELECT, INSERT, UPDATE ON biometric_consents TO facegate_app;
