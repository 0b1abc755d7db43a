/**
 * The only module that queries `webauthn_credentials`: a user's registered passkeys (public keys
 * and metadata, nothing secret). Every query runs in the caller's tenant transaction and also
 * names the tenant, so row-level security and the WHERE clause both hold.
 */
import type { CredentialDeviceType } from '@simplewebauthn/server';
import { NotFoundError, faceLoginError } from '../errors.ts';
import type { Sql } from '../store/db.ts';

export type StoredCredential = {
  credentialId: string;
  userId: string;
  /** COSE public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
  aaguid: string;
  backupEligible: boolean;
  backupState: boolean;
  attestationFormat: string;
  deviceType: CredentialDeviceType;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
};

export type NewCredential = Omit<StoredCredential, 'createdAt' | 'lastUsedAt'>;

type CredentialRow = {
  credential_id: string;
  user_id: string;
  public_key: Uint8Array;
  sign_count: string | number;
  transports: string[];
  aaguid: string;
  backup_eligible: boolean;
  backup_state: boolean;
  attestation_format: string;
  device_type: CredentialDeviceType;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
};

const COLUMNS = `credential_id, user_id, public_key, sign_count, transports, aaguid, backup_eligible, backup_state,
  attestation_format, device_type, name, created_at, last_used_at`;

const toCredential = (r: CredentialRow): StoredCredential => ({
  credentialId: r.credential_id,
  userId: r.user_id,
  publicKey: new Uint8Array(r.public_key),
  signCount: Number(r.sign_count),
  transports: r.transports,
  aaguid: r.aaguid,
  backupEligible: r.backup_eligible,
  backupState: r.backup_state,
  attestationFormat: r.attestation_format,
  deviceType: r.device_type,
  name: r.name,
  createdAt: new Date(r.created_at),
  lastUsedAt: r.last_used_at && new Date(r.last_used_at),
});

export async function listUserCredentials(sql: Sql, tenantId: string, userId: string): Promise<StoredCredential[]> {
  const { rows } = await sql.query<CredentialRow>(
    `SELECT ${COLUMNS} FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at`,
    [tenantId, userId],
  );
  return rows.map(toCredential);
}

/** The credential only if it is registered to this user: another user's is as unknown as none. */
export async function findUserCredential(sql: Sql, tenantId: string, userId: string, credentialId: string): Promise<StoredCredential | undefined> {
  const { rows } = await sql.query<CredentialRow>(
    `SELECT ${COLUMNS} FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 AND credential_id = $3`,
    [tenantId, userId, credentialId],
  );
  return rows[0] && toCredential(rows[0]);
}

/** Stores a new credential; ConflictError-like `webauthn.credential_exists` when the id is taken in this tenant. */
export async function insertCredential(sql: Sql, tenantId: string, c: NewCredential): Promise<void> {
  let rowCount: number;
  try {
    ({ rowCount } = await sql.query(
      `INSERT INTO webauthn_credentials (tenant_id, user_id, credential_id, public_key, sign_count, transports, aaguid,
         backup_eligible, backup_state, attestation_format, device_type, name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (tenant_id, credential_id) DO NOTHING`,
      [tenantId, c.userId, c.credentialId, c.publicKey, c.signCount, c.transports, c.aaguid, c.backupEligible, c.backupState, c.attestationFormat, c.deviceType, c.name],
    ));
  } catch (e) {
    if ((e as { code?: string }).code === '23503') throw new NotFoundError('user.not_found', 'no such user');
    throw e;
  }
  if (rowCount !== 1) throw faceLoginError('webauthn.credential_exists', 'this passkey is already registered');
}

/**
 * Records a verified use: the counter moves only forward (both 0 stays 0, for authenticators
 * without a counter). False when another use got there first with an equal or higher counter.
 */
export async function recordCredentialUse(
  sql: Sql,
  tenantId: string,
  credentialId: string,
  use: { signCount: number; backupState: boolean },
): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE webauthn_credentials SET sign_count = $3, backup_state = $4, last_used_at = now()
     WHERE tenant_id = $1 AND credential_id = $2 AND (sign_count < $3::bigint OR (sign_count = 0 AND $3::bigint = 0))`,
    [tenantId, credentialId, use.signCount, use.backupState],
  );
  return rowCount === 1;
}

/** Renames the user's passkey; false when it is not this user's (another user's is as unknown as none). */
export async function renameUserCredential(sql: Sql, tenantId: string, userId: string, credentialId: string, name: string): Promise<boolean> {
  const { rowCount } = await sql.query('UPDATE webauthn_credentials SET name = $4 WHERE tenant_id = $1 AND user_id = $2 AND credential_id = $3', [tenantId, userId, credentialId, name]);
  return rowCount === 1;
}

/** Deletes the user's passkey; false when it is not this user's. */
export async function deleteUserCredential(sql: Sql, tenantId: string, userId: string, credentialId: string): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 AND credential_id = $3', [tenantId, userId, credentialId]);
  return rowCount === 1;
}
