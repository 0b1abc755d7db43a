/**
 * A user's devices: the passkeys that bind face sign-in to them (name, created, last used),
 * renamed or removed by their owner. Another user's credential id is answered exactly like an
 * unknown one (404 `device.not_found`). Both changes are audited.
 */
import { inTenant } from '../account/tenants.ts';
import { appendAudit } from '../audit/log.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { deleteUserCredential, listUserCredentials, renameUserCredential } from '../faceLogin/credentialStore.ts';
import type { Database } from '../store/db.ts';

export type Device = { id: string; name: string; createdAt: Date; lastUsedAt: Date | null; synced: boolean };

// Same rule as passkey registration's names (and the column's CHECK): 1–100 printable characters.
const NAME = /^[^\p{Cc}]{1,100}$/u;
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{1,1366}$/;

const notFound = () => new NotFoundError('device.not_found', 'no such device on your account');

export async function listDevices(db: Database, tenantId: string, userId: string): Promise<Device[]> {
  const creds = await inTenant(db, tenantId, (sql) => listUserCredentials(sql, tenantId, userId));
  return creds.map((c) => ({ id: c.credentialId, name: c.name, createdAt: c.createdAt, lastUsedAt: c.lastUsedAt, synced: c.deviceType === 'multiDevice' }));
}

export async function renameDevice(db: Database, tenantId: string, userId: string, deviceId: string, rawName: string): Promise<void> {
  const name = rawName.trim();
  if (!NAME.test(name)) throw new InputError('device.invalid_name', 'a device name is 1–100 printable characters');
  if (!CREDENTIAL_ID.test(deviceId)) throw notFound();
  await inTenant(db, tenantId, async (sql) => {
    if (!(await renameUserCredential(sql, tenantId, userId, deviceId, name))) throw notFound();
    await appendAudit(sql, tenantId, { type: 'device.renamed', actor: userId, subject: userId, data: { credentialId: deviceId } });
  });
}

/** Removes the passkey; without one, face sign-in is no longer offered until another is registered. */
export async function removeDevice(db: Database, tenantId: string, userId: string, deviceId: string): Promise<void> {
  if (!CREDENTIAL_ID.test(deviceId)) throw notFound();
  await inTenant(db, tenantId, async (sql) => {
    if (!(await deleteUserCredential(sql, tenantId, userId, deviceId))) throw notFound();
    await appendAudit(sql, tenantId, { type: 'device.removed', actor: userId, subject: userId, data: { credentialId: deviceId } });
  });
}
