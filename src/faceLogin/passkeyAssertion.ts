/**
 * Verifies the passkey assertion of the face step: a signature by one of THIS user's registered
 * credentials, made on our origin for our RP ID with user verification, over the challenge the
 * caller expects, with a signature counter that moved forward (passkeySignature.ts, the check the
 * custodian makes too). Only a genuinely signed regression — a cloned authenticator — is audited
 * as `webauthn.counter_regressed`, never a forged one.
 */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { appendAudit } from '../audit/log.ts';
import { faceLoginError } from '../errors.ts';
import { findUserCredential, recordCredentialUse } from './credentialStore.ts';
import type { FaceLoginDeps } from './deps.ts';
import { checkPasskeySignature } from './passkeySignature.ts';

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
  const checked = await checkPasskeySignature(deps.rp, userId, assertion, credential, async (challenge) => {
    const expected = check.expectedChallenge;
    return typeof expected === 'function' ? expected(challenge) : challenge === expected;
  });
  if (!checked.ok) {
    if (checked.reason === 'unknown_credential') throw faceLoginError('webauthn.unknown_credential', 'this passkey is not registered to this user');
    if (checked.reason === 'challenge_mismatch') throw faceLoginError('webauthn.challenge_mismatch', 'the passkey signed a different capture', checked.cause);
    throw faceLoginError('webauthn.assertion_invalid', 'the passkey assertion did not verify', checked.cause);
  }
  const { newCounter, backedUp: credentialBackedUp } = checked;
  const recorded =
    checked.counterForward &&
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
