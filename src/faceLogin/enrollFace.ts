/**
 * Enrolls the user's face from one verified capture: consent in force (`consent.required`
 * otherwise), the capture verified against its enroll nonce and the user's passkey before any
 * frame is decoded, the burst through the strict enroll quality gates, liveness passed
 * (`face.not_live`), and then only the aggregate embedding stored, encrypted, as the template.
 * Frames and embedding are wiped; a fresh enrollment re-enables face after too many failures.
 */
import type { AccountDeps } from '../account/deps.ts';
import { resetFaceAttempts } from '../account/factorAttempt.ts';
import { appendAudit } from '../audit/log.ts';
import { faceLoginError } from '../errors.ts';
import { assertBiometricConsent } from './biometricConsent.ts';
import type { BoundCapture } from './captureUpload.ts';
import { isLive } from './decide.ts';
import type { FaceServices } from './faceServices.ts';
import { verifyCapture } from './verifyCapture.ts';

export async function enrollFace(
  deps: AccountDeps & { face: FaceServices },
  input: { tenantId: string; interactionUid: string; userId: string; capture: BoundCapture },
): Promise<void> {
  const { tenantId, userId } = input;
  await assertBiometricConsent(deps.db, tenantId, userId);
  const verified = await verifyCapture({ db: deps.db, kv: deps.kv, rp: deps.face.rp, custodian: deps.face.custodian() }, input.capture, {
    tenantId,
    interactionUid: input.interactionUid,
    userId,
    purpose: 'enroll',
  });
  try {
    const burst = await deps.face.pipeline().processBurst(verified.frames, 'enroll');
    if (!isLive(burst.liveness.aggregate)) {
      burst.embedding.fill(0);
      throw faceLoginError('face.not_live', 'the camera did not see a live face: face the camera in good light and try again');
    }
    await deps.face.templates().enroll(tenantId, userId, burst.embedding);
  } finally {
    for (const frame of verified.frames) frame.fill(0);
  }
  await resetFaceAttempts(deps, tenantId, userId);
  await deps.db.withTenant(tenantId, (sql) =>
    appendAudit(sql, tenantId, { type: 'face.enrolled', actor: userId, subject: userId, data: { credentialId: verified.credentialId } }),
  );
}
