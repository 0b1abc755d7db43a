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

/** Moves the counter forward (both 0 stays 0); false when another use got there first or it went back. */
export async function advancePasskeyCounter(sql: Sql, tenantId: string, credentialId: string, signCount: number): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE custodian_passkeys SET sign_count = $3
     WHERE tenant_id = $1 AND credential_id = $2 AND (sign_count < $3::bigint OR (sign_count = 0 AND $3::bigint = 0))`,
    [tenantId, credentialId, signCount],
  );
  return rowCount === 1;
}
