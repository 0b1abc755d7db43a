/** Rows of `face_templates`: ciphertext and public key per user, tenant-scoped by RLS. */
import type { Sql } from '../store/db.ts';

export type StoredTemplate = {
  model: string;
  dim: number;
  publicKey: Uint8Array;
  ciphertext: Uint8Array;
};

/** `version` changes with every (re-)enrollment: blinders made under an older public key are not used. */
export type MatchableTemplate = Omit<StoredTemplate, 'publicKey'> & { version: string };

type Row = { model: string; dim: number; ciphertext: Uint8Array; version: string };

/** The user's template without its public key (270 KB, needed only to make blinders). */
export async function findTemplate(sql: Sql, tenantId: string, userId: string): Promise<MatchableTemplate | undefined> {
  const { rows } = await sql.query<Row>(
    'SELECT model, dim, ciphertext, created_at::text AS version FROM face_templates WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId],
  );
  const row = rows[0];
  return row && { model: row.model, dim: row.dim, ciphertext: new Uint8Array(row.ciphertext), version: row.version };
}

/** The version of the user's template (its enrollment time), without reading the template. */
export async function templateVersion(sql: Sql, tenantId: string, userId: string): Promise<string | undefined> {
  const { rows } = await sql.query<{ version: string }>('SELECT created_at::text AS version FROM face_templates WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return rows[0]?.version;
}

/** The public key of the template at `version`, or undefined once it was replaced or removed. */
export async function findPublicKey(sql: Sql, tenantId: string, userId: string, version: string): Promise<Uint8Array | undefined> {
  const { rows } = await sql.query<{ public_key: Uint8Array }>(
    'SELECT public_key FROM face_templates WHERE tenant_id = $1 AND user_id = $2 AND created_at::text = $3',
    [tenantId, userId, version],
  );
  return rows[0] && new Uint8Array(rows[0].public_key);
}

/** Deletes the user's template only if it is still the one at `version` (not a newer enrollment); true if it was. */
export async function deleteTemplateVersion(sql: Sql, tenantId: string, userId: string, version: string): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM face_templates WHERE tenant_id = $1 AND user_id = $2 AND created_at::text = $3', [tenantId, userId, version]);
  return rowCount > 0;
}

/** Inserts or replaces the user's template (re-enrollment replaces key pair and ciphertext); returns its version. */
export async function saveTemplate(sql: Sql, tenantId: string, userId: string, t: StoredTemplate): Promise<string> {
  const { rows } = await sql.query<{ version: string }>(
    `INSERT INTO face_templates (tenant_id, user_id, model, dim, public_key, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, user_id) DO UPDATE
       SET model = EXCLUDED.model, dim = EXCLUDED.dim, public_key = EXCLUDED.public_key,
           ciphertext = EXCLUDED.ciphertext, created_at = now(), last_used_at = NULL
     RETURNING created_at::text AS version`,
    [tenantId, userId, t.model, t.dim, Buffer.from(t.publicKey), Buffer.from(t.ciphertext)],
  );
  return rows[0].version;
}

/** Whether the user has a template, without reading it. */
export async function templateExists(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await sql.query('SELECT 1 FROM face_templates WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return rows.length > 0;
}

/** Records a match of the template as its last use (retention deletes templates unused for too long). */
export async function touchTemplate(sql: Sql, tenantId: string, userId: string, at: Date = new Date()): Promise<void> {
  await sql.query('UPDATE face_templates SET last_used_at = $3 WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId, at]);
}

export async function deleteTemplate(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM face_templates WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return rowCount > 0;
}

export async function userExists(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await sql.query('SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, userId]);
  return rows.length > 0;
}

/** When and with which model the user's template was enrolled, without reading it. */
export async function templateInfo(sql: Sql, tenantId: string, userId: string): Promise<{ model: string; dim: number; enrolledAt: Date } | undefined> {
  const { rows } = await sql.query<{ model: string; dim: number; created_at: Date }>(
    'SELECT model, dim, created_at FROM face_templates WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId],
  );
  return rows[0] && { model: rows[0].model, dim: rows[0].dim, enrolledAt: new Date(rows[0].created_at) };
}
