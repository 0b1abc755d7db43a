/** Rows of `face_templates`: ciphertext and public key per user, tenant-scoped by RLS. */
import type { Sql } from '../store/db.ts';

export type StoredTemplate = {
  model: string;
  dim: number;
  publicKey: Uint8Array;
  ciphertext: Uint8Array;
};

type Row = { model: string; dim: number; public_key: Uint8Array; ciphertext: Uint8Array };

/** The user's template; the public key (70 KB) is read only when `withPublicKey` is set. */
export async function findTemplate(sql: Sql, tenantId: string, userId: string, withPublicKey = true): Promise<StoredTemplate | undefined> {
  const { rows } = await sql.query<Row>(
    `SELECT model, dim, CASE WHEN $3 THEN public_key ELSE ''::bytea END AS public_key, ciphertext
       FROM face_templates WHERE tenant_id = $1 AND user_id = $2`,
    [tenantId, userId, withPublicKey],
  );
  const row = rows[0];
  return row && { model: row.model, dim: row.dim, publicKey: new Uint8Array(row.public_key), ciphertext: new Uint8Array(row.ciphertext) };
}

/** Inserts or replaces the user's template (re-enrollment replaces key pair and ciphertext). */
export async function saveTemplate(sql: Sql, tenantId: string, userId: string, t: StoredTemplate): Promise<void> {
  await sql.query(
    `INSERT INTO face_templates (tenant_id, user_id, model, dim, public_key, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, user_id) DO UPDATE
       SET model = EXCLUDED.model, dim = EXCLUDED.dim, public_key = EXCLUDED.public_key,
           ciphertext = EXCLUDED.ciphertext, created_at = now()`,
    [tenantId, userId, t.model, t.dim, Buffer.from(t.publicKey), Buffer.from(t.ciphertext)],
  );
}

/** Whether the user has a template, without reading it. */
export async function templateExists(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const { rows } = await sql.query('SELECT 1 FROM face_templates WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return rows.length > 0;
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
