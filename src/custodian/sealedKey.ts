/**
 * Secret keys at rest: AES-256-GCM under a key-encryption key, with the additional data binding
 * the sealed blob to its tenant, user and KEK id (a row copied to another user does not open).
 * Layout: 12-byte IV ‖ 16-byte tag ‖ ciphertext. The tag length is fixed (GCM would otherwise
 * accept a tag as short as 4 bytes: a forgery in 2^32 tries) and a shorter blob is refused.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FacegateError } from '../errors.ts';

export type Kek = { id: string; key: Buffer };

const IV = 12;
const TAG = 16;

function aad(tenantId: string, userId: string, kekId: string): Buffer {
  return Buffer.from(`facegate-custodian-key:v1\n${tenantId}\n${userId}\n${kekId}`);
}

export function sealKey(kek: Kek, tenantId: string, userId: string, secret: Uint8Array): Uint8Array {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG });
  cipher.setAAD(aad(tenantId, userId, kek.id));
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function openKey(kek: Kek, tenantId: string, userId: string, sealed: Uint8Array): Buffer {
  try {
    const bytes = Buffer.from(sealed);
    if (bytes.length <= IV + TAG) throw new Error('truncated');
    const decipher = createDecipheriv('aes-256-gcm', kek.key, bytes.subarray(0, IV), { authTagLength: TAG });
    decipher.setAAD(aad(tenantId, userId, kek.id));
    decipher.setAuthTag(bytes.subarray(IV, IV + TAG));
    return Buffer.concat([decipher.update(bytes.subarray(IV + TAG)), decipher.final()]);
  } catch {
    // Wrong KEK, tampered row or a row moved between users: never a user error.
    throw new FacegateError('custodian.unseal_failed', 'a sealed key failed authentication', 500);
  }
}
