/**
 * What the custodian's own database login could read beyond its tables: in production the
 * custodian service refuses to start when CUSTODIAN_DATABASE_URL logs in as a role that can read
 * templates (the owner, a superuser, or the provider's login), since one process would then
 * hold both the keys and the templates.
 */
import type { Database } from '../store/db.ts';

/** Reasons the connecting (login) role breaks the separation; empty when it cannot read templates. */
export async function custodianConnectionPowers(db: Database): Promise<string[]> {
  if (db.kind !== 'postgres') return [];
  // asOwner runs as the login role itself (no SET ROLE): the role being judged.
  const { rows } = await db.asOwner((sql) =>
    sql.query<{ role: string; superuser: boolean; templates: boolean }>(
      `SELECT current_user AS role, r.rolsuper AS superuser, has_table_privilege('face_templates', 'SELECT') AS templates
       FROM pg_roles r WHERE r.rolname = current_user`,
    ),
  );
  const r = rows[0];
  if (r.superuser) return [`${r.role} is a superuser`];
  return r.templates ? [`${r.role} may read face_templates`] : [];
}
