/**
 * Whether a user can sign in with their face now: a passkey, an enrolled template, a biometric
 * consent in force, and face not disabled by failures. The interaction reads it to know the
 * level a user can reach (oidc/assurance.ts achievableAcr) and whether to offer enrollment.
 */
import type { AccountDeps } from '../account/deps.ts';
import { isFaceDisabled } from '../account/factorAttempt.ts';
import type { FaceReadiness } from '../oidc/assurance.ts';
import { templateExists } from '../template/templateStore.ts';
import { hasBiometricConsent } from './biometricConsent.ts';
import { listUserCredentials } from './credentialStore.ts';

export async function faceReadiness(deps: AccountDeps, tenantId: string, userId: string): Promise<FaceReadiness> {
  const [stored, consent, faceDisabled] = await Promise.all([
    deps.db.withTenant(tenantId, async (sql) => ({
      passkey: (await listUserCredentials(sql, tenantId, userId)).length > 0,
      template: await templateExists(sql, tenantId, userId),
    })),
    hasBiometricConsent(deps.db, tenantId, userId),
    isFaceDisabled(deps, tenantId, userId),
  ]);
  return { ...stored, consent, faceDisabled };
}

/** Face sign-in is ready for the user (all of the above). */
export const isFaceReady = (r: FaceReadiness): boolean => r.passkey && r.template && r.consent && !r.faceDisabled;
