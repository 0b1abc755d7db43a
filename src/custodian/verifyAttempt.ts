/**
 * The custodian's own check that a decryption request carries a live, user-verified attempt
 * (issue 11), in ONE transaction that also counts the attempt: the nonce it issued to this user is
 * spent first (a conditional UPDATE: a concurrent twin waits on the row and then finds it used),
 * then the passkey assertion must verify against the public key the custodian stored for this
 * user, over SHA-256(nonce ‖ frame hashes), with user verification, on the relying party's origin
 * and RP ID, and with a counter that moved forward; only then `whenLive` runs (the attempt budget).
 * The passkey must also be eligible for the user's current key (registered before the key was
 * created, passkeyStore.ts findAttemptPasskey): a provider compromised after enrollment can
 * register a passkey of its own, but not one that opens decryptions under the enrolled template's
 * key. A refusal is returned, not thrown, so the transaction commits and the nonce stays spent
 * whatever was wrong. Nothing the provider stores is trusted here.
 */
import { InputError } from '../errors.ts';
import { challengeFromFrameHashes } from '../faceLogin/captureChallenge.ts';
import { CAPTURE_NONCE } from '../faceLogin/captureNonce.ts';
import { checkPasskeySignature } from '../faceLogin/passkeySignature.ts';
import type { RelyingParty } from '../faceLogin/relyingParty.ts';
import { parseAssertionJson } from '../faceLogin/webauthnJson.ts';
import type { Database, Sql } from '../store/db.ts';
import { spendNonce } from './attemptNonces.ts';
import type { CaptureAttempt } from './custodian.ts';
import { advancePasskeyCounter, findAttemptPasskey } from './passkeyStore.ts';

/** As many hashes as a capture may have frames (captureUpload.ts MAX_CAPTURE_FRAMES). */
const MAX_FRAME_HASHES = 12;

/** Why an attempt was refused: the audit's `reason`, and the error the caller gets. */
export type AttemptRefusal = {
  reason: 'malformed' | 'replayed' | 'unknown_passkey' | 'passkey_not_eligible' | 'challenge_mismatch' | 'assertion_invalid' | 'counter_regressed';
  error: InputError;
};

const refusal = (reason: AttemptRefusal['reason']): AttemptRefusal => {
  if (reason === 'malformed') return { reason, error: new InputError('custodian.attempt_malformed', 'the decryption request carries no well-formed attempt') };
  if (reason === 'replayed') return { reason, error: new InputError('custodian.attempt_replayed', 'this attempt’s nonce is used, expired or unknown; capture again', 409) };
  if (reason === 'passkey_not_eligible') {
    return { reason, error: new InputError('custodian.passkey_not_eligible', 'this passkey was registered after the face enrollment; enroll the face again with it', 403) };
  }
  return { reason, error: new InputError('custodian.attempt_unverified', 'the attempt is not signed by a passkey of this user', 403) };
};

function wellFormed(attempt: unknown): CaptureAttempt | undefined {
  if (typeof attempt !== 'object' || attempt === null) return undefined;
  const { nonce, frameHashes, assertion } = attempt as Record<string, unknown>;
  if (typeof nonce !== 'string' || !CAPTURE_NONCE.test(nonce)) return undefined;
  if (!Array.isArray(frameHashes) || frameHashes.length === 0 || frameHashes.length > MAX_FRAME_HASHES) return undefined;
  if (!frameHashes.every((h) => h instanceof Uint8Array && h.length === 32)) return undefined;
  try {
    return { nonce, frameHashes, assertion: parseAssertionJson(assertion) };
  } catch {
    return undefined;
  }
}

/**
 * `{ live }` with what `whenLive` returned (in the same transaction) when the attempt is live and
 * verified; its nonce is spent either way. `{ refusal }` otherwise.
 */
export async function verifyAttempt<T>(
  db: Database,
  rp: Pick<RelyingParty, 'origin' | 'rpID'>,
  tenantId: string,
  userId: string,
  given: unknown,
  whenLive: (sql: Sql) => Promise<T>,
): Promise<{ refusal: AttemptRefusal } | { live: T }> {
  const attempt = wellFormed(given);
  if (!attempt) return { refusal: refusal('malformed') };
  const { assertion } = attempt;
  return db.withTenant(tenantId, async (sql) => {
    if (!(await spendNonce(sql, tenantId, userId, attempt.nonce))) return { refusal: refusal('replayed') };
    const found = await findAttemptPasskey(sql, tenantId, userId, assertion.id);
    if (!found) return { refusal: refusal('unknown_passkey') };
    // Before the signature check and the budget: a late passkey neither spends nor resets it.
    if (!found.eligible) return { refusal: refusal('passkey_not_eligible') };
    const { passkey } = found;
    const challenge = challengeFromFrameHashes(attempt.nonce, attempt.frameHashes);
    const checked = await checkPasskeySignature(rp, userId, assertion, passkey, (signed) => signed === challenge);
    if (!checked.ok) return { refusal: refusal(checked.reason === 'unknown_credential' ? 'unknown_passkey' : checked.reason) };
    if (!checked.counterForward || !(await advancePasskeyCounter(sql, tenantId, passkey.credentialId, checked.newCounter))) {
      return { refusal: refusal('counter_regressed') };
    }
    return { live: await whenLive(sql) };
  });
}
