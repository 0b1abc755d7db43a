-- The account area reads a user's sign-in history from the audit log by actor: an index keeps
-- that a range scan instead of a walk over the tenant's whole chain.
CREATE INDEX audit_events_actor ON audit_events (tenant_id, actor, seq) WHERE actor IS NOT NULL;
