-- Every change to a client (created, min_acr set, secret rotated, deleted), by whatever writes it
-- (server, CLI process, an operator's SQL), is announced on `facegate_clients` with the tenant id,
-- so provider processes that cache client metadata drop it at once (src/oidc/clientCache.ts).
CREATE FUNCTION notify_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('facegate_clients', COALESCE(NEW.tenant_id, OLD.tenant_id, ''));
  RETURN NULL;
END $$;

CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION notify_client_change();
-- TRUNCATE has no rows: an empty payload means every tenant.
CREATE TRIGGER clients_truncated AFTER TRUNCATE ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION notify_client_change();
