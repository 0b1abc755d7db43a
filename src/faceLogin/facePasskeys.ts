/**
 * Which of a user's passkeys can sign a face sign-in against their enrolled template: those
 * registered before the template was enrolled. The custodian decides this itself (it answers
 * only attempts signed by a passkey it knew when the user's key was made, custodian.ts and
 * verifyAttempt.ts) and refuses the others with `custodian.passkey_not_eligible`; the provider
 * mirrors the rule from its own rows (webauthn_credentials.created_at, face_templates.created_at)
 * only so that it never sends a user into a capture the custodian will refuse, and tells them to
 * set up face again on that device instead. Registering a passkey comes before the enrollment's
 * key and the enrollment's template row after it, so the two rules agree but for a passkey
 * registered while an enrollment was running; that one is refused by the custodian, and the
 * refusal reads the same (`face.passkey_not_enrolled`).
 */
import { faceLoginError } from '../errors.ts';
import type { StoredCredential } from './credentialStore.ts';

export type FacePasskeys = {
  /** Passkeys that can sign face sign-ins (all of them when no face is enrolled: enrollment needs one). */
  usable: StoredCredential[];
  /** Passkeys added after the face was enrolled: face sign-in with one needs setting up face again on it. */
  afterEnrollment: StoredCredential[];
};

export function facePasskeys(credentials: StoredCredential[], enrolledAt: Date | undefined): FacePasskeys {
  if (!enrolledAt) return { usable: credentials, afterEnrollment: [] };
  return {
    usable: credentials.filter((c) => c.createdAt <= enrolledAt),
    afterEnrollment: credentials.filter((c) => c.createdAt > enrolledAt),
  };
}

/** The user's answer when a passkey added after the face enrollment signed (or would sign) a face sign-in. */
export const passkeyNotEnrolled = (cause?: unknown) =>
  faceLoginError(
    'face.passkey_not_enrolled',
    'this device’s passkey was added after your face was set up, so it cannot be used for face sign-in: sign in with your PIN or code, and to use your face on this device delete your face data in your account and set it up again here',
    cause,
  );
