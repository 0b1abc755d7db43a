-- Deletion that is final and retention (issue 10).
-- 1. OIDC artifacts name the account they belong to, so deleting a user finds its sessions,
--    grants, tokens, codes and interactions although ids are hashed and payloads sealed.
--    '' means "belongs to no account" (client credentials, an interaction before sign-in);
--    NULL marks a row written before this migration, which deletion opens to check.
ALTER TABLE oidc_payloads ADD COLUMN account_id text;
CREATE INDEX oidc_payloads_account ON oidc_payloads (tenant_id, account_id) WHERE account_id IS NOT NULL AND account_id <> '';

-- 2. Deleting an account pseudonymizes the user's past audit rows: actor, subject and data may
--    be rewritten, never seq, time, type or the chain hashes, and each rewritten row carries a
--    MAC under the data key over its new content and its original hash (src/audit/redaction.ts),
--    so verification still detects any other edit.
ALTER TABLE audit_events ADD COLUMN redaction_mac text;
GRANT UPDATE (actor, subject, data, redaction_mac) ON audit_events TO facegate_app;

-- 3. Retention: when a template was last matched (enrollment counts as use), and per-tenant
--    policy. NULL columns take the defaults of src/account/retention.ts.
ALTER TABLE face_templates ADD COLUMN last_used_at timestamptz;
CREATE TABLE retention_policies (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  face_unused_days int CHECK (face_unused_days BETWEEN 1 AND 36500),
  audit_days int CHECK (audit_days BETWEEN 30 AND 36500),
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT isolate_by_tenant('retention_policies');
GRANT SELECT, INSERT, UPDATE ON retention_policies TO facegate_app;

-- The app may not delete audit rows; retention prunes through this function only, which
-- removes a prefix of the chain and never a row younger than 30 days (so recent evidence cannot
-- be erased even by a compromised server). The caller records the pruned head in the chain.
CREATE FUNCTION prune_audit_events(p_tenant text, p_through_seq bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  n bigint;
BEGIN
  IF p_tenant IS DISTINCT FROM current_tenant() THEN
    RAISE EXCEPTION 'prune_audit_events: tenant % is not the current tenant', p_tenant;
  END IF;
  IF EXISTS (SELECT 1 FROM audit_events WHERE tenant_id = p_tenant AND seq <= p_through_seq AND at > now() - interval '30 days') THEN
    RAISE EXCEPTION 'prune_audit_events: rows younger than 30 days';
  END IF;
  DELETE FROM audit_events WHERE tenant_id = p_tenant AND seq <= p_through_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION prune_audit_events(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_audit_events(text, bigint) TO facegate_app;
