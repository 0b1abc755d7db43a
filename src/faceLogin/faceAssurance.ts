/**
 * What an accepted face step proves, as OIDC `acr`/`amr` (DESIGN.md §4): loa 2 — face match,
 * passive liveness, and a user-verified passkey assertion binding the frames; loa 3 when the
 * capture's nonce also asked for head turns, which faceSignIn judges with decideActiveFace
 * (strict threshold, the turns in order). It takes the VerifiedCapture, which only verifyCapture
 * can produce, so the device binding cannot be skipped; freshness (≤ 5 min) is the session's
 * business (oidc/assurance.ts sessionAcr).
 */
import { LOA, type Acr, type Amr } from '../oidc/assurance.ts';
import type { ActiveFaceDecision, FaceDecision } from './decide.ts';
import type { VerifiedCapture } from './verifyCapture.ts';

export type FaceAssurance = { acr: Exclude<Acr, typeof LOA.pinOrOtp>; amr: Amr[] };

/**
 * The assurance of an accepted decision on a verified capture; undefined when it was rejected.
 * A capture issued with head turns must come with decideActiveFace's decision (`active`).
 */
export function faceAssurance(
  judged: { active: false; decision: FaceDecision } | { active: true; decision: ActiveFaceDecision },
  capture: VerifiedCapture,
): FaceAssurance | undefined {
  if (!judged.decision.accepted || capture.binding.purpose !== 'verify') return undefined;
  // A capture that asked for turns is never judged by the passive rule, nor the reverse.
  if (judged.active !== (capture.headTurns !== undefined)) return undefined;
  // face: the biometric; hwk: the passkey's hardware key; user: its user verification; mfa: more than one factor.
  return { acr: judged.active ? LOA.faceStrict : LOA.face, amr: ['face', 'hwk', 'user', 'mfa'] };
}
