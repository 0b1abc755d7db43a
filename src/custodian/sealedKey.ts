/**
 * Secret keys at rest: AES-256-GCM under a key-encryption key, with the additional data binding
 * the sealed blob to its tenant, user and KEK id (a row copied to another user does not open).
 * Layout: 12-byte IV ‖ 16-byte tag ‖ ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FacegateError } from '../errors.ts';

export type Kek = { id: string; key: Buffer };

function aad(tenantId: string, userId: string, kekId: string): Buffer {
  return Buffer.from(`facegate-custodian-key:v1\n${tenantId}\n${userId}\n${kekId}`);
}

export function sealKey(kek: Kek, tenantId: string, userId: string, secret: Uint8Array): Uint8Array {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv);
  cipher.setAAD(aad(tenantId, userId, kek.id));
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function openKey(kek: Kek, tenantId: string, userId: string, sealed: Uint8Array): Buffer {
  try {
    const bytes = Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', kek.key, bytes.subarray(0, 12));
    decipher.setAAD(aad(tenantId, userId, kek.id));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  } catch {
    // Wrong KEK, tampered row or a row moved between users: never a user error.
    throw new FacegateError('custodian.unseal_failed', 'a sealed key failed authentication', 500);
  }
}
