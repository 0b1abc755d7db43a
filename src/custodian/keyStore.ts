/** Rows of `custodian_keys`: one sealed secret key per user with its enrollment's attempt count, tenant-scoped by RLS. */
import type { Sql } from '../store/db.ts';

export type SealedRow = { kekId: string; sealed: Uint8Array };

export async function findSealedKey(sql: Sql, tenantId: string, userId: string): Promise<SealedRow | undefined> {
  const { rows } = await sql.query<{ kek_id: string; sealed: Uint8Array }>(
    'SELECT kek_id, sealed FROM custodian_keys WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId],
  );
  const row = rows[0];
  return row && { kekId: row.kek_id, sealed: new Uint8Array(row.sealed) };
}

export async function saveSealedKey(sql: Sql, tenantId: string, userId: string, row: SealedRow): Promise<void> {
  await sql.query(
    `INSERT INTO custodian_keys (tenant_id, user_id, kek_id, sealed) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET kek_id = EXCLUDED.kek_id, sealed = EXCLUDED.sealed, created_at = now(), rewrapped_at = NULL, attempts = 0`,
    [tenantId, userId, row.kekId, Buffer.from(row.sealed)],
  );
}

/**
 * Counts one decryption against the enrollment's budget and returns the sealed key, in one
 * conditional UPDATE (concurrent requests cannot overdraw it): `exhausted` once `limit`
 * decryptions were made with this key, `missing` when the user has no key.
 */
export async function takeAttempt(sql: Sql, tenantId: string, userId: string, limit: number): Promise<SealedRow | 'exhausted' | 'missing'> {
  const { rows } = await sql.query<{ kek_id: string; sealed: Uint8Array }>(
    'UPDATE custodian_keys SET attempts = attempts + 1 WHERE tenant_id = $1 AND user_id = $2 AND attempts < $3 RETURNING kek_id, sealed',
    [tenantId, userId, limit],
  );
  if (rows[0]) return { kekId: rows[0].kek_id, sealed: new Uint8Array(rows[0].sealed) };
  const { rows: exists } = await sql.query('SELECT 1 FROM custodian_keys WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return exists.length > 0 ? 'exhausted' : 'missing';
}

/**
 * An accepted match ends the run of failures: the budget counts decryptions since the last
 * accept (NIST SP 800-63B-4 §3.2.3 limits consecutive failed attempts), not over the key's life.
 */
export async function resetAttempts(sql: Sql, tenantId: string, userId: string): Promise<void> {
  await sql.query('UPDATE custodian_keys SET attempts = 0 WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
}

export async function rewrapSealedKey(sql: Sql, tenantId: string, userId: string, row: SealedRow): Promise<void> {
  await sql.query('UPDATE custodian_keys SET kek_id = $3, sealed = $4, rewrapped_at = now() WHERE tenant_id = $1 AND user_id = $2', [
    tenantId,
    userId,
    row.kekId,
    Buffer.from(row.sealed),
  ]);
}

export async function deleteSealedKey(sql: Sql, tenantId: string, userId: string): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM custodian_keys WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  return rowCount > 0;
}

/** Up to `limit` of the tenant's keys sealed under one of `kekIds`, locked for rewrapping. */
export async function keysSealedUnder(sql: Sql, tenantId: string, kekIds: string[], limit: number): Promise<(SealedRow & { userId: string })[]> {
  const { rows } = await sql.query<{ user_id: string; kek_id: string; sealed: Uint8Array }>(
    'SELECT user_id, kek_id, sealed FROM custodian_keys WHERE tenant_id = $1 AND kek_id = ANY($2::text[]) ORDER BY user_id LIMIT $3 FOR UPDATE',
    [tenantId, kekIds, limit],
  );
  return rows.map((r) => ({ userId: r.user_id, kekId: r.kek_id, sealed: new Uint8Array(r.sealed) }));
}

/** How many of the tenant's keys are sealed under one of `kekIds`. */
export async function countSealedUnder(sql: Sql, tenantId: string, kekIds: string[]): Promise<number> {
  const { rows } = await sql.query<{ n: string | number }>('SELECT count(*) AS n FROM custodian_keys WHERE tenant_id = $1 AND kek_id = ANY($2::text[])', [tenantId, kekIds]);
  return Number(rows[0].n);
}
