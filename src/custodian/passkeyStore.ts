/** Rows of `custodian_passkeys`: the public keys the custodian checks attempts with, and their counters. */
import type { Sql } from '../store/db.ts';
import type { CustodianPasskey } from './custodian.ts';

export async function savePasskey(sql: Sql, tenantId: string, userId: string, p: CustodianPasskey): Promise<boolean> {
  const { rowCount } = await sql.query(
    `INSERT INTO custodian_passkeys (tenant_id, user_id, credential_id, public_key, sign_count) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, credential_id) DO NOTHING`,
    [tenantId, userId, p.credentialId, Buffer.from(p.publicKey), p.signCount],
  );
  return rowCount === 1;
}

/** The passkey only if it is this user's. */
export async function findPasskey(sql: Sql, tenantId: string, userId: string, credentialId: string): Promise<CustodianPasskey | undefined> {
  const { rows } = await sql.query<{ public_key: Uint8Array; sign_count: string | number }>(
    'SELECT public_key, sign_count FROM custodian_passkeys WHERE tenant_id = $1 AND user_id = $2 AND credential_id = $3',
    [tenantId, userId, credentialId],
  );
  const row = rows[0];
  return row && { credentialId, publicKey: new Uint8Array(row.public_key), signCount: Number(row.sign_count) };
}

/**
 * The passkey only if it is this user's, and whether it may sign attempts against the user's
 * current key: only a passkey the custodian knew when that key was created (created_at ≤ the
 * key's created_at, which only a new key — an enrollment — moves; a KEK rewrap must not). A
 * passkey added later (by a provider compromised after enrollment, with a key pair of its own)
 * could otherwise sign "attempts" at will. A user with no key gets `eligible` (the decision then
 * finds no key). Checked in the same statement that loads the passkey.
 */
export async function findAttemptPasskey(
  sql: Sql,
  tenantId: string,
  userId: string,
  credentialId: string,
): Promise<{ passkey: CustodianPasskey; eligible: boolean } | undefined> {
  const { rows } = await sql.query<{ public_key: Uint8Array; sign_count: string | number; eligible: boolean }>(
    `SELECT p.public_key, p.sign_count, (k.created_at IS NULL OR p.created_at <= k.created_at) AS eligible
     FROM custodian_passkeys p LEFT JOIN custodian_keys k ON k.tenant_id = p.tenant_id AND k.user_id = p.user_id
     WHERE p.tenant_id = $1 AND p.user_id = $2 AND p.credential_id = $3`,
    [tenantId, userId, credentialId],
  );
  const row = rows[0];
  return row && { passkey: { credentialId, publicKey: new Uint8Array(row.public_key), signCount: Number(row.sign_count) }, eligible: row.eligible };
}

/** Moves the counter forward (both 0 stays 0); false when another use got there first or it went back. */
export async function advancePasskeyCounter(sql: Sql, tenantId: string, credentialId: string, signCount: number): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE custodian_passkeys SET sign_count = $3
     WHERE tenant_id = $1 AND credential_id = $2 AND (sign_count < $3::bigint OR (sign_count = 0 AND $3::bigint = 0))`,
    [tenantId, credentialId, signCount],
  );
  return rowCount === 1;
}
