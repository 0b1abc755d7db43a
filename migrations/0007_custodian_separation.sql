-- The custodian's own role and tables (issue 11). facegate_custodian owns the custodian's use of
-- the database: its sealed keys (with the attempt budget of each enrollment), the capture nonces
-- it issued, and the passkey public keys it checks attempts against. It may append to the audit
-- log and nothing else of the provider's; it has no access to face_templates. facegate_app loses
-- every privilege on the custodian's tables: a provider (or a thief of its database credentials)
-- can read templates but no key, the custodian can read keys but no template.
-- Login roles are made like the app's (0003): `CREATE ROLE <login> LOGIN IN ROLE facegate_custodian`,
-- and the custodian's connection enters the group role with SET ROLE (db.ts forRole).

DO $$ BEGIN
  CREATE ROLE facegate_custodian NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

REVOKE ALL ON custodian_keys FROM facegate_app;

-- Keys follow their user (and so their tenant): deleting either leaves no key to unseal. Keys of
-- users already gone are orphans and are shredded here. RLS is forced on the table, so the owner
-- lifts it for the cleanup (a non-superuser owner would otherwise see no row and the key below
-- would fail to validate).
ALTER TABLE custodian_keys NO FORCE ROW LEVEL SECURITY;
DELETE FROM custodian_keys k WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = k.tenant_id AND u.id = k.user_id);
ALTER TABLE custodian_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE custodian_keys ADD CONSTRAINT custodian_keys_user FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE;

-- The attempt budget of the enrollment this key belongs to: decryptions so far. A new key (a new
-- enrollment) starts at 0; the custodian refuses once the limit is reached (localCustodian.ts).
ALTER TABLE custodian_keys ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);

-- The passkeys the custodian checks attempts against: public keys and the highest counter seen,
-- written only through the custodian (registerPasskey), never by the provider's role.
CREATE TABLE custodian_passkeys (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  credential_id text NOT NULL CHECK (credential_id ~ '^[A-Za-z0-9_-]+$' AND length(credential_id) <= 1366),
  -- COSE-encoded public key
  public_key bytea NOT NULL,
  sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, credential_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX custodian_passkeys_user ON custodian_passkeys (tenant_id, user_id);

-- Passkeys registered before the custodian kept its own copy: taken over once, here, by the owner.
ALTER TABLE webauthn_credentials NO FORCE ROW LEVEL SECURITY;
INSERT INTO custodian_passkeys (tenant_id, user_id, credential_id, public_key, sign_count, created_at)
  SELECT tenant_id, user_id, credential_id, public_key, sign_count, created_at FROM webauthn_credentials;
ALTER TABLE webauthn_credentials FORCE ROW LEVEL SECURITY;

-- Capture nonces the custodian issued: each opens exactly one decryption (used_at set once, by a
-- conditional UPDATE), and only before expires_at.
CREATE TABLE custodian_nonces (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  nonce text NOT NULL CHECK (nonce ~ '^[A-Za-z0-9_-]{43}$'),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (tenant_id, nonce),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX custodian_nonces_user_expiry ON custodian_nonces (tenant_id, user_id, expires_at);

SELECT isolate_by_tenant('custodian_passkeys', 'custodian_nonces');

GRANT USAGE ON SCHEMA public TO facegate_custodian;
GRANT SELECT, INSERT, UPDATE, DELETE ON custodian_keys, custodian_passkeys, custodian_nonces TO facegate_custodian;
-- Tenant ids only (rewrapping walks the tenants).
GRANT SELECT ON tenants TO facegate_custodian;
-- Appending to the audit chain reads the tenant's last seq and hash, nothing else of the log.
GRANT SELECT (tenant_id, seq, hash), INSERT ON audit_events TO facegate_custodian;
