/**
 * What the connecting database role could do to the audit log beyond appending. The server's
 * connection must not be able to delete, rewrite or unprotect audit rows: production refuses to
 * start when it can (main.ts); elsewhere it is a warning, since the quick start may run as owner.
 */
import type { Database } from './db.ts';

/** Reasons the connecting role can rewrite audit rows; empty when it can only append. */
export async function auditRewritePowers(db: Database): Promise<string[]> {
  if (db.kind !== 'postgres') return [];
  // asOwner runs as the connecting role itself (no SET ROLE), which is what is being judged.
  const { rows } = await db.asOwner((sql) =>
    sql.query<{ role: string; superuser: boolean; bypassrls: boolean; owner: boolean; audit_write: boolean; tenant_delete: boolean }>(
      `SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
              pg_has_role(c.relowner, 'MEMBER') AS owner,
              has_table_privilege('audit_events', 'UPDATE') OR has_table_privilege('audit_events', 'DELETE')
                OR has_table_privilege('audit_events', 'TRUNCATE') AS audit_write,
              has_table_privilege('tenants', 'DELETE') OR has_table_privilege('tenants', 'TRUNCATE') AS tenant_delete
       FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'audit_events'::regclass`,
    ),
  );
  const r = rows[0];
  const powers: string[] = [];
  if (r.superuser) powers.push(`${r.role} is a superuser`);
  else if (r.owner) powers.push(`${r.role} owns audit_events`);
  if (r.bypassrls && !r.superuser) powers.push(`${r.role} bypasses row-level security`);
  if (!r.superuser && !r.owner && r.audit_write) powers.push(`${r.role} may update or delete audit_events`);
  if (!r.superuser && !r.owner && r.tenant_delete) powers.push(`${r.role} may delete tenants (which cascades to the audit log)`);
  return powers;
}
