/**
 * One face sign-in attempt (DESIGN.md §3): consent in force, then — through the face attempt
 * limit — the capture verified against its nonce and the user's passkey, and only then the frames
 * decoded, matched against the encrypted template and checked for liveness. An attempt counts
 * once the assertion has verified (a forged or replayed upload proves nothing about the face, so
 * it only releases its slot). A capture whose nonce asked for head turns (loa 3) runs as an
 * active burst: the turns are checked from each frame's yaw, the frontal frames matched at the
 * strict threshold (decideActiveFace); failed turns count as failed liveness for the attempt
 * limit. A capture signed by a passkey added after the enrollment is refused by the custodian
 * and answered `face.passkey_not_enrolled`, not counted (facePasskeys.ts). Every outcome is audited as a decision and what failed — never a score; frames and
 * the probe embedding are wiped once used.
 */
import type { AccountDeps } from '../account/deps.ts';
import { attemptFactor } from '../account/factorAttempt.ts';
import { appendAudit } from '../audit/log.ts';
import { InputError, isFacegateError } from '../errors.ts';
import { assertBiometricConsent } from './biometricConsent.ts';
import { frameHashes } from './captureChallenge.ts';
import type { BoundCapture } from './captureUpload.ts';
import { decideActiveFace, decideFace, isLive, matchThresholdFor, type ActiveFaceDecision, type FaceDecision } from './decide.ts';
import { faceAssurance, type FaceAssurance } from './faceAssurance.ts';
import { passkeyNotEnrolled } from './facePasskeys.ts';
import type { FaceServices } from './faceServices.ts';
import { checkHeadTurns } from './headTurn.ts';
import { verifyCapture } from './verifyCapture.ts';

export type FaceSignInDeps = AccountDeps & { face: FaceServices };

export type FaceSignInResult = { accepted: true; assurance: FaceAssurance } | Extract<ActiveFaceDecision, { accepted: false }>;

type Checked = { ok: boolean; livenessPassed: boolean; decision?: FaceDecision | ActiveFaceDecision; assurance?: FaceAssurance; refused?: InputError };

export async function signInWithFace(
  deps: FaceSignInDeps,
  input: { tenantId: string; interactionUid: string; userId: string; capture: BoundCapture },
): Promise<FaceSignInResult> {
  const { tenantId, userId, capture } = input;
  const audit = (ok: boolean, data: Record<string, unknown>) =>
    deps.db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type: ok ? 'signin.success' : 'signin.failure', actor: userId, subject: userId, data: { factor: 'face', ...data } }));
  let checked: Checked;
  try {
    await assertBiometricConsent(deps.db, tenantId, userId);
    checked = await attemptFactor(deps, tenantId, userId, userId, 'face', async (): Promise<Checked> => {
      const verified = await verifyCapture({ db: deps.db, kv: deps.kv, rp: deps.face.rp, custodian: deps.face.custodian() }, capture, {
        tenantId,
        interactionUid: input.interactionUid,
        userId,
        purpose: 'verify',
      });
      // What the custodian checks on its own before it decrypts: the frames travel only as hashes.
      const attempt = { nonce: capture.nonce, frameHashes: frameHashes(verified.frames), assertion: capture.assertion };
      try {
        const expectedTurns = verified.headTurns;
        let burst;
        try {
          burst = await deps.face.pipeline().processBurst(verified.frames, expectedTurns ? 'verify-active' : 'verify');
        } catch (e) {
          // Signed frames that show no usable face (or two) are a real attempt that failed.
          if (e instanceof InputError) return { ok: false, livenessPassed: false, refused: e };
          throw e;
        }
        const liveness = burst.liveness.aggregate;
        let matched: boolean;
        try {
          ({ accepted: matched } = await deps.face.templates().match(tenantId, userId, burst.embedding, { threshold: matchThresholdFor(Boolean(expectedTurns)), attempt }));
        } catch (e) {
          // Signed by a passkey added after the enrollment: no face was judged, so no failure is counted.
          if (isFacegateError(e) && e.code === 'custodian.passkey_not_eligible') throw passkeyNotEnrolled(e);
          throw e;
        }
        if (!expectedTurns) {
          const decision = decideFace({ matched, liveness });
          return { ok: decision.accepted, livenessPassed: isLive(liveness), decision, assurance: faceAssurance({ active: false, decision }, verified) };
        }
        const turns = checkHeadTurns(expectedTurns, burst.quality.frames.map((f) => f.yawDeg));
        const decision = decideActiveFace({ matched, liveness }, turns);
        // The turns are the active half of liveness: a still photo or a replayed clip fails them.
        const livenessPassed = isLive(liveness) && turns.ok;
        return { ok: decision.accepted, livenessPassed, decision, assurance: faceAssurance({ active: true, decision }, verified) };
      } finally {
        for (const frame of verified.frames) frame.fill(0);
      }
    });
  } catch (e) {
    if (isFacegateError(e)) await audit(false, { reason: e.code });
    throw e;
  }
  if (checked.refused) {
    await audit(false, { reason: checked.refused.code });
    throw checked.refused;
  }
  const decision = checked.decision!;
  if (decision.accepted && checked.assurance) {
    await audit(true, { decision: 'accept', acr: checked.assurance.acr });
    return { accepted: true, assurance: checked.assurance };
  }
  const failed = decision.accepted ? [] : decision.failed;
  await audit(false, { reason: 'rejected', decision: 'reject', failed });
  return { accepted: false, failed };
}
