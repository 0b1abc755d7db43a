/**
 * Verifies the passkey assertion of the face step: a signature by one of THIS user's registered
 * credentials, made on our origin for our RP ID with user verification, over the challenge the
 * caller expects, with a signature counter that moved forward. Its counter is checked here, after
 * the signature verifies (the library checks it before), so only a genuinely signed regression —
 * a cloned authenticator — is audited as `webauthn.counter_regressed`, never a forged one.
 */
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import { appendAudit } from '../audit/log.ts';
import { faceLoginError } from '../errors.ts';
import { findUserCredential, recordCredentialUse } from './credentialStore.ts';
import type { FaceLoginDeps } from './deps.ts';

export type AssertionCheck = {
  tenantId: string;
  userId: string;
  /** Parsed with parseAssertionJson. */
  assertion: AuthenticationResponseJSON;
  /** The base64url challenge, or a function that decides whether the signed challenge is the right one. */
  expectedChallenge: string | ((challenge: string) => boolean | Promise<boolean>);
};

export type VerifiedAssertion = { credentialId: string; backedUp: boolean };

export async function verifyBoundAssertion(deps: FaceLoginDeps, check: AssertionCheck): Promise<VerifiedAssertion> {
  const { tenantId, userId, assertion } = check;
  const credential = await deps.db.withTenant(tenantId, (sql) => findUserCredential(sql, tenantId, userId, assertion.id));
  if (!credential) throw faceLoginError('webauthn.unknown_credential', 'this passkey is not registered to this user');
  // A discoverable credential names its user; it must be the user we registered it for.
  const userHandle = assertion.response.userHandle;
  if (userHandle !== undefined && userHandle !== Buffer.from(userId).toString('base64url')) {
    throw faceLoginError('webauthn.unknown_credential', 'this passkey is not registered to this user');
  }
  let challengeMatched: boolean | undefined;
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: async (challenge) => {
        const expected = check.expectedChallenge;
        challengeMatched = typeof expected === 'function' ? await expected(challenge) : challenge === expected;
        return challengeMatched;
      },
      expectedOrigin: deps.rp.origin,
      expectedRPID: deps.rp.rpID,
      // Counter 0 turns the library's pre-signature counter check off; ours follows the signature.
      credential: { id: credential.credentialId, publicKey: credential.publicKey, counter: 0, transports: credential.transports },
      requireUserVerification: true,
    });
  } catch (e) {
    if (challengeMatched === false) throw faceLoginError('webauthn.challenge_mismatch', 'the passkey signed a different capture', e);
    throw faceLoginError('webauthn.assertion_invalid', 'the passkey assertion did not verify', e);
  }
  if (!result.verified) throw faceLoginError('webauthn.assertion_invalid', 'the passkey signature did not verify');
  const { newCounter, credentialBackedUp } = result.authenticationInfo;
  const forward = newCounter > credential.signCount || (newCounter === 0 && credential.signCount === 0);
  const recorded =
    forward &&
    (await deps.db.withTenant(tenantId, (sql) => recordCredentialUse(sql, tenantId, credential.credentialId, { signCount: newCounter, backupState: credentialBackedUp })));
  if (!recorded) {
    await deps.db.withTenant(tenantId, (sql) =>
      appendAudit(sql, tenantId, {
        type: 'webauthn.counter_regressed',
        actor: userId,
        subject: userId,
        data: { credentialId: credential.credentialId, storedCount: credential.signCount, receivedCount: newCounter },
      }),
    );
    throw faceLoginError('webauthn.counter_regressed', 'this passkey reported a signature counter that did not increase');
  }
  return { credentialId: credential.credentialId, backedUp: credentialBackedUp };
}
