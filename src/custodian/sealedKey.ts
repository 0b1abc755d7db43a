/**
 * Secret keys at rest: AES-256-GCM under a key-encryption key, with the additional data binding
 * the sealed blob to its tenant, user and KEK id (a row copied to another user does not open).
 * Layout: 12-byte IV ‖ 16-byte tag ‖ ciphertext. The tag length is fixed (GCM would otherwise
 * accept a tag as short as 4 bytes: a forgery in 2^32 tries) and a shorter blob is refused.
 * gcmSeal/gcmOpen are that format alone; the KEK epoch file (kekStore.ts) is sealed with them too.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FacegateError } from '../errors.ts';

export type Kek = { id: string; key: Buffer };

const IV = 12;
const TAG = 16;

function aad(tenantId: string, userId: string, kekId: string): Buffer {
  return Buffer.from(`facegate-custodian-key:v1\n${tenantId}\n${userId}\n${kekId}`);
}

/** AES-256-GCM: 12-byte IV ‖ 16-byte tag ‖ ciphertext (the custodian's one sealing format). */
export function gcmSeal(key: Buffer, additional: Buffer, plain: Uint8Array): Buffer {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG });
  cipher.setAAD(additional);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens what gcmSeal made; throws on a short blob, a wrong key or AAD, or any tampering. */
export function gcmOpen(key: Buffer, additional: Buffer, sealed: Uint8Array): Buffer {
  const bytes = Buffer.from(sealed);
  if (bytes.length <= IV + TAG) throw new Error('truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV), { authTagLength: TAG });
  decipher.setAAD(additional);
  decipher.setAuthTag(bytes.subarray(IV, IV + TAG));
  return Buffer.concat([decipher.update(bytes.subarray(IV + TAG)), decipher.final()]);
}

export function sealKey(kek: Kek, tenantId: string, userId: string, secret: Uint8Array): Uint8Array {
  return gcmSeal(kek.key, aad(tenantId, userId, kek.id), secret);
}

export function openKey(kek: Kek, tenantId: string, userId: string, sealed: Uint8Array): Buffer {
  try {
    return gcmOpen(kek.key, aad(tenantId, userId, kek.id), sealed);
  } catch {
    // Wrong KEK, tampered row or a row moved between users: never a user error.
    throw new FacegateError('custodian.unseal_failed', 'a sealed key failed authentication', 500);
  }
}
