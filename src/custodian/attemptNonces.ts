/**
 * The custodian's capture nonces (`custodian_nonces`): issued for one tenant and user, alive a
 * little longer than the provider's copy (so a capture the provider accepts is not refused here
 * for a second of clock), and spent by one conditional UPDATE — of two concurrent requests with
 * the same nonce, exactly one finds `used_at IS NULL`.
 */
import { randomBytes } from 'node:crypto';
import { CAPTURE_NONCE_TTL_MS } from '../faceLogin/captureNonce.ts';
import type { Sql } from '../store/db.ts';

/** The provider keeps its nonce CAPTURE_NONCE_TTL_MS from just after this one is issued. */
export const CUSTODIAN_NONCE_TTL_MS = CAPTURE_NONCE_TTL_MS + 30_000;

export async function insertNonce(sql: Sql, tenantId: string, userId: string, now = Date.now()): Promise<{ nonce: string; expiresAt: number }> {
  // The user's dead nonces go first: the table holds only what can still be spent or refused.
  await sql.query('DELETE FROM custodian_nonces WHERE tenant_id = $1 AND user_id = $2 AND expires_at < now()', [tenantId, userId]);
  const nonce = randomBytes(32).toString('base64url');
  const expiresAt = now + CUSTODIAN_NONCE_TTL_MS;
  await sql.query('INSERT INTO custodian_nonces (tenant_id, user_id, nonce, expires_at) VALUES ($1, $2, $3, $4)', [
    tenantId,
    userId,
    nonce,
    new Date(expiresAt),
  ]);
  return { nonce, expiresAt };
}

/** Marks the nonce used; false when it is not live for this user (never issued, used, expired). */
export async function spendNonce(sql: Sql, tenantId: string, userId: string, nonce: string): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE custodian_nonces SET used_at = now()
     WHERE tenant_id = $1 AND user_id = $2 AND nonce = $3 AND used_at IS NULL AND expires_at > now()`,
    [tenantId, userId, nonce],
  );
  return rowCount === 1;
}
