/**
 * Checks a face capture before any of it is decoded (DESIGN.md §3.3): the nonce is taken
 * (single use: a replay is `capture.replayed`) and must belong to this tenant, interaction, user
 * and purpose; the challenge is recomputed from the frame bytes as received; the passkey
 * assertion must have signed exactly that challenge (`webauthn.challenge_mismatch` otherwise) and
 * verify for this user. Only then are the frames handed on. Any failure spends the nonce: the
 * browser captures again.
 */
import { captureChallenge } from './captureChallenge.ts';
import { takeCaptureNonce, type CaptureBinding, type HeadTurn } from './captureNonce.ts';
import type { BoundCapture } from './captureUpload.ts';
import type { FaceLoginDeps } from './deps.ts';
import { verifyBoundAssertion } from './passkeyAssertion.ts';

declare const verified: unique symbol;

/** Frames proven to come from this user's device for this interaction; only verifyCapture makes one. */
export type VerifiedCapture = {
  readonly [verified]: true;
  binding: CaptureBinding;
  frames: Uint8Array[];
  /** The head turns the frames must show (loa 3), as issued with the nonce. */
  headTurns?: HeadTurn[];
  credentialId: string;
};

export async function verifyCapture(deps: FaceLoginDeps, capture: BoundCapture, expected: CaptureBinding): Promise<VerifiedCapture> {
  const issued = await takeCaptureNonce(deps.kv, capture.nonce, expected);
  const challenge = captureChallenge(capture.nonce, capture.frames);
  const assertion = await verifyBoundAssertion(deps, {
    tenantId: expected.tenantId,
    userId: expected.userId,
    assertion: capture.assertion,
    expectedChallenge: (signed) => signed === challenge,
  });
  return {
    binding: { tenantId: issued.tenantId, interactionUid: issued.interactionUid, userId: issued.userId, purpose: issued.purpose },
    frames: capture.frames,
    ...(issued.headTurns ? { headTurns: issued.headTurns } : {}),
    credentialId: assertion.credentialId,
  } as VerifiedCapture;
}
