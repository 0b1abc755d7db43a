/**
 * Starts a capture: issues the nonce bound to tenant, interaction, user and purpose (a sign-in's
 * value made by the custodian, so that it can hold the decryption to it), and tells the
 * browser how to capture (frame count, spacing) and which passkeys may sign. For a sign-in it
 * also remembers, for the nonce's lifetime, which user the interaction's capture is for: the
 * upload carries no username, so the user cannot be swapped between start and upload.
 * An active capture (loa 3) also gets a random head-turn sequence, carried by the nonce, and
 * the prompts the page shows frame by frame to walk the user through it.
 */
import { faceLoginError } from '../errors.ts';
import { isUuid } from '../ids.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { CAPTURE_NONCE_TTL_MS, issueCaptureNonce, randomHeadTurns, type CaptureBinding, type HeadTurn } from './captureNonce.ts';
import { headTurnPrompts } from './headTurn.ts';
import { listUserCredentials } from './credentialStore.ts';
import type { FaceLoginDeps } from './deps.ts';

/** Three frames 300 ms apart: enough for the liveness aggregate and the frames' consistency check, under a second. */
export const CAPTURE_FRAMES = 3;
export const CAPTURE_INTERVAL_MS = 300;
/** An active capture's frames are 700 ms apart: time to react to a prompt and turn (≈ 7 s in all). */
export const ACTIVE_CAPTURE_INTERVAL_MS = 700;
/** Head turns asked in an active capture: 2 turns make 10 frames (headTurnPrompts), the most a burst takes (pipeline.ts DEFAULT_MAX_FRAMES). */
export const ACTIVE_HEAD_TURNS = 2;

export type CaptureStart = {
  nonce: string;
  frames: number;
  intervalMs: number;
  rpId: string;
  allowCredentials: { id: string; transports: string[] }[];
  /** Active capture only: the text to show while capturing each frame, and the turns it asks for. */
  prompts?: string[];
  headTurns?: HeadTurn[];
};

const userKey = (tenantId: string, interactionUid: string) => `capture-user:${tenantId}:${interactionUid}`;

/** `active`: a sign-in capture with head turns (loa 3). */
export async function startCapture(deps: FaceLoginDeps, binding: CaptureBinding, options: { active?: boolean } = {}): Promise<CaptureStart> {
  if (options.active && binding.purpose !== 'verify') throw new TypeError('only a sign-in capture can be active');
  const credentials = await deps.db.withTenant(binding.tenantId, (sql) => listUserCredentials(sql, binding.tenantId, binding.userId));
  if (credentials.length === 0) throw faceLoginError('face.unavailable', 'no passkey is registered for this account on this site');
  const headTurns = options.active ? randomHeadTurns(ACTIVE_HEAD_TURNS) : undefined;
  // A sign-in's nonce comes from the custodian, which will decrypt only for an attempt signed over it.
  const nonce = binding.purpose === 'verify' ? (await deps.custodian.issueCaptureNonce(binding.tenantId, binding.userId)).nonce : undefined;
  const issued = await issueCaptureNonce(deps.kv, binding, { ...(headTurns ? { headTurns } : {}), ...(nonce ? { nonce } : {}) });
  if (binding.purpose === 'verify') await deps.kv.set(userKey(binding.tenantId, binding.interactionUid), binding.userId, CAPTURE_NONCE_TTL_MS);
  const common = { nonce: issued.nonce, rpId: deps.rp.rpID, allowCredentials: credentials.map((c) => ({ id: c.credentialId, transports: c.transports })) };
  if (!headTurns) return { ...common, frames: CAPTURE_FRAMES, intervalMs: CAPTURE_INTERVAL_MS };
  const prompts = headTurnPrompts(headTurns);
  return { ...common, frames: prompts.length, intervalMs: ACTIVE_CAPTURE_INTERVAL_MS, prompts, headTurns };
}

/** The user the interaction's sign-in capture was started for; `capture.replayed` once that has expired. */
export async function capturedUser(kv: KeyValueStore, tenantId: string, interactionUid: string): Promise<string> {
  const userId = await kv.get(userKey(tenantId, interactionUid));
  if (userId === null || !isUuid(userId)) throw faceLoginError('capture.replayed', 'this capture was already submitted or has expired; capture again');
  return userId;
}
