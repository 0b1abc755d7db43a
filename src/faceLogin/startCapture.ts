/**
 * Starts a capture: issues the nonce bound to tenant, interaction, user and purpose, and tells the
 * browser how to capture (frame count, spacing) and which passkeys may sign. For a sign-in it
 * also remembers, for the nonce's lifetime, which user the interaction's capture is for: the
 * upload carries no username, so the user cannot be swapped between start and upload.
 */
import { faceLoginError } from '../errors.ts';
import { isUuid } from '../ids.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { CAPTURE_NONCE_TTL_MS, issueCaptureNonce, type CaptureBinding } from './captureNonce.ts';
import { listUserCredentials } from './credentialStore.ts';
import type { FaceLoginDeps } from './deps.ts';

/** Three frames 300 ms apart: enough for the liveness aggregate and the frames' consistency check, under a second. */
export const CAPTURE_FRAMES = 3;
export const CAPTURE_INTERVAL_MS = 300;

export type CaptureStart = {
  nonce: string;
  frames: number;
  intervalMs: number;
  rpId: string;
  allowCredentials: { id: string; transports: string[] }[];
};

const userKey = (tenantId: string, interactionUid: string) => `capture-user:${tenantId}:${interactionUid}`;

export async function startCapture(deps: FaceLoginDeps, binding: CaptureBinding): Promise<CaptureStart> {
  const credentials = await deps.db.withTenant(binding.tenantId, (sql) => listUserCredentials(sql, binding.tenantId, binding.userId));
  if (credentials.length === 0) throw faceLoginError('face.unavailable', 'no passkey is registered for this account on this site');
  const issued = await issueCaptureNonce(deps.kv, binding);
  if (binding.purpose === 'verify') await deps.kv.set(userKey(binding.tenantId, binding.interactionUid), binding.userId, CAPTURE_NONCE_TTL_MS);
  return {
    nonce: issued.nonce,
    frames: CAPTURE_FRAMES,
    intervalMs: CAPTURE_INTERVAL_MS,
    rpId: deps.rp.rpID,
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: c.transports })),
  };
}

/** The user the interaction's sign-in capture was started for; `capture.replayed` once that has expired. */
export async function capturedUser(kv: KeyValueStore, tenantId: string, interactionUid: string): Promise<string> {
  const userId = await kv.get(userKey(tenantId, interactionUid));
  if (userId === null || !isUuid(userId)) throw faceLoginError('capture.replayed', 'this capture was already submitted or has expired; capture again');
  return userId;
}
