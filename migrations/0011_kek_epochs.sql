-- KEK epochs and orphan shredding (issue 11). The KEKs themselves are never in the database: the
-- custodian keeps them in its private key store (src/custodian/kekStore.ts); custodian_keys.kek_id
-- names the epoch a key is sealed under. What the custodian needs here is to find its rows that
-- belong to no one (src/custodian/orphanKeys.ts):
-- * whether a user still exists: the ids of users, nothing else of them (RLS keeps it per tenant);
-- * rows of tenants that no longer exist, which the tenant policy hides from every scope: visible
--   and deletable by the custodian only, and only such rows. The cascades from tenants and users
--   delete these rows too; these policies are for rows restored without the foreign-key triggers.
GRANT SELECT (tenant_id, id) ON users TO facegate_custodian;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['custodian_keys', 'custodian_passkeys', 'custodian_nonces'] LOOP
    EXECUTE format('CREATE POLICY vanished_tenant_read ON %I FOR SELECT TO facegate_custodian USING (NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = tenant_id))', t);
    EXECUTE format('CREATE POLICY vanished_tenant_shred ON %I FOR DELETE TO facegate_custodian USING (NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = tenant_id))', t);
  END LOOP;
END $$;
