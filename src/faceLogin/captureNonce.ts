/**
 * The one-time capture nonce of the face step (DESIGN.md §3.1): issued for one interaction, one
 * user and one purpose, kept 2 minutes in the key-value store, and taken atomically, so a capture
 * signed over it can be submitted once — a second or concurrent submission finds nothing and is
 * refused as `capture.replayed`. For loa 3 it also carries the head turns the user must make, in
 * an order the server chose at random. The store holds only these ids and words, never biometrics.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { faceLoginError } from '../errors.ts';
import { isTenantId, isUuid } from '../ids.ts';
import type { KeyValueStore } from '../store/kv.ts';

export const CAPTURE_NONCE_TTL_MS = 2 * 60_000;
/** 32 random bytes, base64url: 43 characters. */
export const CAPTURE_NONCE = /^[A-Za-z0-9_-]{43}$/;

export type CapturePurpose = 'verify' | 'enroll';
export type HeadTurn = 'left' | 'right';

/** What a nonce is bound to. */
export type CaptureBinding = { tenantId: string; interactionUid: string; userId: string; purpose: CapturePurpose };

export type IssuedNonce = CaptureBinding & {
  nonce: string;
  /** Head turns to perform in this order (loa 3 active challenge); absent when none was asked. */
  headTurns?: HeadTurn[];
  expiresAt: number;
};

// oidc-provider interaction uids are 21-character nanoids; anything longer is not ours.
const INTERACTION_UID = /^[A-Za-z0-9_-]{1,64}$/;

const BINDING_FIELDS = ['tenantId', 'interactionUid', 'userId', 'purpose'] as const;

const nonceKey = (nonce: string) => `capture-nonce:${nonce}`;

/** A random sequence of `count` turns that always contains both directions (count ≥ 2). */
export function randomHeadTurns(count = 2): HeadTurn[] {
  if (!Number.isInteger(count) || count < 2 || count > 4) throw new RangeError('between 2 and 4 head turns');
  for (;;) {
    const turns = Array.from({ length: count }, (): HeadTurn => (randomInt(2) === 0 ? 'left' : 'right'));
    if (turns.includes('left') && turns.includes('right')) return turns;
  }
}

export async function issueCaptureNonce(
  kv: KeyValueStore,
  binding: CaptureBinding,
  options: { headTurns?: HeadTurn[]; now?: number; nonce?: string } = {},
): Promise<IssuedNonce> {
  const { tenantId, interactionUid, userId, purpose } = binding;
  if (!isTenantId(tenantId) || !isUuid(userId) || !INTERACTION_UID.test(interactionUid) || (purpose !== 'verify' && purpose !== 'enroll')) {
    throw new TypeError('capture nonce binding: invalid tenant, interaction, user or purpose');
  }
  if (options.nonce !== undefined && !CAPTURE_NONCE.test(options.nonce)) throw new TypeError('capture nonce: not 43 base64url characters');
  // A sign-in's value is the custodian's (startCapture); it is as random, and taken here as once.
  const nonce = options.nonce ?? randomBytes(32).toString('base64url');
  const issued: IssuedNonce = {
    tenantId,
    interactionUid,
    userId,
    purpose,
    nonce,
    ...(options.headTurns ? { headTurns: [...options.headTurns] } : {}),
    expiresAt: (options.now ?? Date.now()) + CAPTURE_NONCE_TTL_MS,
  };
  if (!(await kv.setIfAbsent(nonceKey(nonce), JSON.stringify(issued), CAPTURE_NONCE_TTL_MS))) throw new Error('capture nonce collision');
  return issued;
}

/**
 * Takes the nonce (it cannot be taken again) and checks what it was issued for.
 * `capture.replayed` when it is not live (used, expired or never issued);
 * `capture.nonce_mismatch` when it was issued for another tenant, interaction, user or purpose —
 * it is spent either way.
 */
export async function takeCaptureNonce(kv: KeyValueStore, nonce: string, expected: CaptureBinding): Promise<IssuedNonce> {
  const raw = CAPTURE_NONCE.test(nonce) ? await kv.take(nonceKey(nonce)) : null;
  if (raw === null) throw faceLoginError('capture.replayed', 'this capture was already submitted or has expired; capture again');
  const issued = JSON.parse(raw) as IssuedNonce;
  const same = BINDING_FIELDS.every((k) => issued[k] === expected[k]);
  if (!same) throw faceLoginError('capture.nonce_mismatch', 'this capture was started for another sign-in');
  return issued;
}
