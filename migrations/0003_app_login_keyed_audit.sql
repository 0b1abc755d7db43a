-- The server connects as a login role with only facegate_app's privileges, never as the owner,
-- so it cannot delete or rewrite audit rows; and audit rows are MACed with the data key.

-- Id of the data key whose `audit-chain` subkey MACs the row (src/audit/hash.ts). Rows chained
-- before keying (plain SHA-256) have none and no longer verify: they could be rewritten by anyone
-- who can write the database.
ALTER TABLE audit_events ADD COLUMN key_id text;

-- Creating a tenant (the quick start's default one, `facegate tenant create`) runs as the app:
-- it may add tenants, never rename or delete them (deleting one would cascade to its audit log).
GRANT INSERT (id, name) ON tenants TO facegate_app;

-- The server checks that the schema is current before serving; only the owner applies migrations.
GRANT SELECT ON schema_migrations TO facegate_app;
