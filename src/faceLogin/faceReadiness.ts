/**
 * Whether a user can sign in with their face now: a passkey that can sign against the enrolled
 * template (registered before it, facePasskeys.ts), an enrolled template, a biometric consent in
 * force, and face not disabled by failures. A user whose passkeys all came after the enrollment
 * is not offered face (the custodian would refuse every capture); the account area's face data
 * page tells them to set it up again on that device (accountArea/faceData.ts). The interaction
 * reads it to know the level a user can reach (oidc/assurance.ts achievableAcr) and whether to
 * offer enrollment.
 */
import type { AccountDeps } from '../account/deps.ts';
import { isFaceDisabled } from '../account/factorAttempt.ts';
import type { FaceReadiness } from '../oidc/assurance.ts';
import { templateInfo } from '../template/templateStore.ts';
import { hasBiometricConsent } from './biometricConsent.ts';
import { listUserCredentials } from './credentialStore.ts';
import { facePasskeys } from './facePasskeys.ts';

export async function faceReadiness(deps: AccountDeps, tenantId: string, userId: string): Promise<FaceReadiness> {
  const [stored, consent, faceDisabled] = await Promise.all([
    deps.db.withTenant(tenantId, async (sql) => {
      const template = await templateInfo(sql, tenantId, userId);
      const passkeys = facePasskeys(await listUserCredentials(sql, tenantId, userId), template?.enrolledAt);
      return { passkey: passkeys.usable.length > 0, template: template !== undefined };
    }),
    hasBiometricConsent(deps.db, tenantId, userId),
    isFaceDisabled(deps, tenantId, userId),
  ]);
  return { ...stored, consent, faceDisabled };
}

/** Face sign-in is ready for the user (all of the above). */
export const isFaceReady = (r: FaceReadiness): boolean => r.passkey && r.template && r.consent && !r.faceDisabled;
