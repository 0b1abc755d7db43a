/**
 * Registers a user's platform passkey, the device key that later binds each face capture to
 * this user. Options ask for a platform authenticator with user verification required; the
 * challenge is kept single-use in the key-value store for 5 minutes, bound to tenant and user,
 * so a response can finish only the registration it was made for, and only once. Attestation
 * is verified when the authenticator gives one; `none` is accepted and recorded as such. The
 * custodian gets its own copy of the public key (it checks face sign-ins against it, never
 * against the provider's table).
 */
import { generateRegistrationOptions, verifyRegistrationResponse, type PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { appendAudit } from '../audit/log.ts';
import { NotFoundError, faceLoginError, isFacegateError } from '../errors.ts';
import { isUuid } from '../ids.ts';
import { validateTenantId } from '../account/tenants.ts';
import { insertCredential, listUserCredentials } from './credentialStore.ts';
import type { FaceLoginDeps } from './deps.ts';
import { parseRegistrationJson } from './webauthnJson.ts';

/** How long a registration may take: the pending challenge lives this long in the store. */
export const REGISTRATION_TTL_MS = 5 * 60_000;
// The browser gives up a little earlier, so a response never arrives for a forgotten challenge.
const BROWSER_TIMEOUT_MS = 4 * 60_000;
/** ES256, EdDSA, RS256: what platform authenticators use; offered and accepted alike. */
export const SUPPORTED_ALGORITHMS = [-7, -8, -257];
// generateRegistrationOptions makes 32 random bytes: 43 base64url characters.
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const NAME = /^[^\p{Cc}]{0,100}$/u;

type PendingRegistration = { tenantId: string; userId: string };

const pendingKey = (challenge: string) => `webauthn-registration:${challenge}`;

function checkIds(tenantId: string, userId: string): void {
  validateTenantId(tenantId);
  if (!isUuid(userId)) throw new NotFoundError('user.not_found', 'no such user');
}

/** Options for navigator.credentials.create(); the user's existing passkeys are excluded. */
export async function beginPasskeyRegistration(
  deps: FaceLoginDeps,
  input: { tenantId: string; userId: string; userName: string; displayName?: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { tenantId, userId } = input;
  checkIds(tenantId, userId);
  const existing = await deps.db.withTenant(tenantId, (sql) => listUserCredentials(sql, tenantId, userId));
  const options = await generateRegistrationOptions({
    rpName: deps.rp.name,
    rpID: deps.rp.rpID,
    userName: input.userName,
    userDisplayName: input.displayName ?? input.userName,
    // The user handle is the opaque user id (no name or email on the authenticator's record).
    userID: new TextEncoder().encode(userId),
    timeout: BROWSER_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
    authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
  const pending: PendingRegistration = { tenantId, userId };
  if (!(await deps.kv.setIfAbsent(pendingKey(options.challenge), JSON.stringify(pending), REGISTRATION_TTL_MS))) {
    throw new Error('registration challenge collision');
  }
  return options;
}

export type RegisteredPasskey = { credentialId: string; attestationFormat: string; deviceType: 'singleDevice' | 'multiDevice' };

/**
 * Verifies the browser's response to `beginPasskeyRegistration` and stores the passkey.
 * `webauthn.registration_expired` when its challenge is not pending for this tenant and user
 * (used, expired, or someone else's); `webauthn.registration_invalid` when the verifier refuses
 * it (origin, RP ID, user verification, attestation); `webauthn.credential_exists` for a
 * passkey already registered in the tenant.
 */
export async function finishPasskeyRegistration(
  deps: FaceLoginDeps,
  input: { tenantId: string; userId: string; response: unknown; name?: string },
): Promise<RegisteredPasskey> {
  const { tenantId, userId } = input;
  checkIds(tenantId, userId);
  const name = input.name?.trim() ?? '';
  if (!NAME.test(name)) throw faceLoginError('webauthn.invalid_name', 'a passkey name is at most 100 printable characters');
  const response = parseRegistrationJson(input.response);
  // Whether the verifier reached the challenge, and whether it was pending for this user.
  let pending = 'unchecked' as 'unchecked' | 'missing' | 'found';
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      // Taking the pending challenge makes it single-use even when two responses race.
      expectedChallenge: async (challenge) => {
        const stored = CHALLENGE.test(challenge) ? await deps.kv.take(pendingKey(challenge)) : null;
        const bound = stored !== null && (JSON.parse(stored) as PendingRegistration);
        pending = bound !== false && bound.tenantId === tenantId && bound.userId === userId ? 'found' : 'missing';
        return pending === 'found';
      },
      expectedOrigin: deps.rp.origin,
      expectedRPID: deps.rp.rpID,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch (e) {
    if (pending === 'missing') throw faceLoginError('webauthn.registration_expired', 'this registration is not pending (used, expired, or not yours); start again', e);
    throw faceLoginError('webauthn.registration_invalid', 'the passkey registration did not verify', e);
  }
  if (!verification.verified) throw faceLoginError('webauthn.registration_invalid', 'the attestation statement did not verify');
  const info = verification.registrationInfo;
  const registered: RegisteredPasskey = { credentialId: info.credential.id, attestationFormat: info.fmt, deviceType: info.credentialDeviceType };
  // The custodian keeps its own copy first (a passkey the provider stored but the custodian lacks
  // could never open a face sign-in); a retry after a failure below is a no-op there.
  try {
    await deps.custodian.registerPasskey(tenantId, userId, { credentialId: info.credential.id, publicKey: info.credential.publicKey, signCount: info.credential.counter });
  } catch (e) {
    if (isFacegateError(e) && e.code === 'custodian.passkey_exists') throw faceLoginError('webauthn.credential_exists', 'this passkey is already registered');
    if (isFacegateError(e) && e.code === 'custodian.unknown_user') throw new NotFoundError('user.not_found', 'no such user');
    throw e;
  }
  await deps.db.withTenant(tenantId, async (sql) => {
    await insertCredential(sql, tenantId, {
      credentialId: info.credential.id,
      userId,
      publicKey: info.credential.publicKey,
      signCount: info.credential.counter,
      transports: info.credential.transports ?? [],
      aaguid: info.aaguid,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backupState: info.credentialBackedUp,
      attestationFormat: info.fmt,
      deviceType: info.credentialDeviceType,
      name,
    });
    await appendAudit(sql, tenantId, {
      type: 'webauthn.credential_registered',
      actor: userId,
      subject: userId,
      data: { credentialId: info.credential.id, attestationFormat: info.fmt, aaguid: info.aaguid, deviceType: info.credentialDeviceType },
    });
  });
  return registered;
}
