-- Resource servers (APIs) the operator registers per tenant. An RP names one with an RFC 8707
-- resource indicator and gets an access token for its audience that carries acr, amr and
-- auth_time; the resource server reads them from the JWT or at introspection, authenticating
-- with its own credential (a row in clients that can do nothing but introspect).
CREATE TABLE resource_servers (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  -- the resource indicator, matched exactly
  uri text NOT NULL,
  -- the aud of its tokens; unique so that one resource server cannot introspect another's tokens
  audience text NOT NULL,
  scopes text[] NOT NULL DEFAULT '{}',
  -- jwt: RFC 9068, verified with the tenant JWKS; opaque: read (and revocable) through introspection
  token_format text NOT NULL CHECK (token_format IN ('jwt', 'opaque')),
  client_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, uri),
  UNIQUE (tenant_id, audience),
  UNIQUE (tenant_id, client_id),
  FOREIGN KEY (tenant_id, client_id) REFERENCES clients(tenant_id, client_id) ON DELETE CASCADE
);

SELECT isolate_by_tenant('resource_servers');

GRANT SELECT, INSERT, UPDATE, DELETE ON resource_servers TO facegate_app;
