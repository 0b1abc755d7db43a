/**
 * The signature check a passkey assertion gets wherever it is verified — in the provider
 * (passkeyAssertion.ts, against its credential table) and in the custodian (custodian/
 * verifyAttempt.ts, against its own copy of the user's passkeys): the credential must name this
 * user, the signature verify on our origin and RP ID with user verification over the expected
 * challenge, and the signature counter move forward. The counter is judged after the signature
 * (the library would check it before), so only a genuinely signed regression reads as a clone.
 * Storing the new counter and mapping outcomes to errors stay with each caller.
 */
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { RelyingParty } from './relyingParty.ts';

export type StoredPasskey = { credentialId: string; publicKey: Uint8Array; signCount: number; transports?: string[] };

export type SignatureCheck =
  | { ok: true; newCounter: number; backedUp: boolean; counterForward: boolean }
  | { ok: false; reason: 'unknown_credential' | 'challenge_mismatch' | 'assertion_invalid'; cause?: unknown };

export async function checkPasskeySignature(
  rp: Pick<RelyingParty, 'origin' | 'rpID'>,
  userId: string,
  assertion: AuthenticationResponseJSON,
  stored: StoredPasskey,
  expectedChallenge: (challenge: string) => boolean | Promise<boolean>,
): Promise<SignatureCheck> {
  // A discoverable credential names its user; it must be the user we registered it for.
  const userHandle = assertion.response.userHandle;
  if (userHandle !== undefined && userHandle !== Buffer.from(userId).toString('base64url')) return { ok: false, reason: 'unknown_credential' };
  let challengeMatched: boolean | undefined;
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: async (challenge) => (challengeMatched = await expectedChallenge(challenge)),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      // Counter 0 turns the library's pre-signature counter check off; ours follows the signature.
      credential: { id: stored.credentialId, publicKey: new Uint8Array(stored.publicKey), counter: 0, transports: stored.transports },
      requireUserVerification: true,
    });
  } catch (e) {
    return { ok: false, reason: challengeMatched === false ? 'challenge_mismatch' : 'assertion_invalid', cause: e };
  }
  if (!result.verified) return { ok: false, reason: 'assertion_invalid' };
  const { newCounter, credentialBackedUp } = result.authenticationInfo;
  const counterForward = newCounter > stored.signCount || (newCounter === 0 && stored.signCount === 0);
  return { ok: true, newCounter, backedUp: credentialBackedUp, counterForward };
}
