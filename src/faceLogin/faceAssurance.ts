/**
 * What an accepted face step proves, as OIDC `acr`/`amr` (DESIGN.md §4): loa 2 — face match,
 * passive liveness, and a user-verified passkey assertion binding the frames. It takes the
 * VerifiedCapture, which only verifyCapture can produce, so the device binding cannot be skipped.
 * loa 3 (strict threshold, head turns, freshness) is not claimed here.
 */
import { LOA, type Amr } from '../oidc/assurance.ts';
import type { FaceDecision } from './decide.ts';
import type { VerifiedCapture } from './verifyCapture.ts';

export type FaceAssurance = { acr: typeof LOA.face; amr: Amr[] };

/** The assurance of an accepted decision on a verified capture; undefined when it was rejected. */
export function faceAssurance(decision: FaceDecision, capture: VerifiedCapture): FaceAssurance | undefined {
  if (!decision.accepted || capture.binding.purpose !== 'verify') return undefined;
  // face: the biometric; hwk: the passkey's hardware key; user: its user verification; mfa: more than one factor.
  return { acr: LOA.face, amr: ['face', 'hwk', 'user', 'mfa'] };
}
