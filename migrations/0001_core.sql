-- Core schema: tenants, clients, users, factors, OIDC state, signing keys, audit.
-- Every tenant-owned row carries tenant_id and is guarded by row-level security: the app role
-- sees only rows of the tenant set in app.tenant_id for the current transaction.

DO $$ BEGIN
  CREATE ROLE facegate_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

CREATE FUNCTION current_tenant() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.tenant_id', true), '')
$$;

CREATE TABLE tenants (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clients (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id text NOT NULL,
  metadata jsonb NOT NULL,
  -- operator-set floor for acr: the RP cannot lower it by editing the authorization URL
  min_acr text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, client_id)
);

CREATE TABLE users (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id uuid NOT NULL,
  username text NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{1,128}$'),
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, username)
);

CREATE TABLE pin_credentials (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE totp_credentials (
  tenant_id text NOT NULL,
  user_id uuid NOT NULL,
  secret text NOT NULL,
  confirmed boolean NOT NULL DEFAULT false,
  -- highest time step accepted so far: a code for this step or an earlier one is a replay
  last_step bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE oidc_payloads (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (tenant_id, model, id)
);
CREATE INDEX oidc_payloads_grant ON oidc_payloads (tenant_id, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_uid ON oidc_payloads (tenant_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_user_code ON oidc_payloads (tenant_id, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_payloads_expires ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE signing_keys (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kid text NOT NULL,
  jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- a retired key still verifies (stays in JWKS) until removed; it no longer signs
  retired_at timestamptz,
  PRIMARY KEY (tenant_id, kid)
);

CREATE TABLE audit_events (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  type text NOT NULL,
  actor text,
  subject text,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);

-- Every tenant-owned table, in this and later migrations, is isolated by this one rule.
CREATE FUNCTION isolate_by_tenant(VARIADIC tables text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY tables LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END $$;

SELECT isolate_by_tenant('clients', 'users', 'pin_credentials', 'totp_credentials', 'oidc_payloads', 'signing_keys', 'audit_events');

GRANT USAGE ON SCHEMA public TO facegate_app;
GRANT SELECT ON tenants TO facegate_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON clients, users, pin_credentials, totp_credentials, oidc_payloads, signing_keys TO facegate_app;
-- the audit log is append-only for the application
GRANT SELECT, INSERT ON audit_events TO facegate_app;
