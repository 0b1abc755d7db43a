/**
 * What the account area says about a user's face data: whether a template is enrolled, when, with
 * which model and encryption, when it was last used to sign in, the biometric consent behind
 * it, and which devices cannot use it (passkeys added after it was enrolled, facePasskeys.ts: face
 * sign-in on one of them needs the face set up again there). Never the template itself: not even the export carries it (the description stands in).
 */
import { inTenant } from '../account/tenants.ts';
import type { Database } from '../store/db.ts';
import { listBiometricConsents, type BiometricConsent } from '../faceLogin/biometricConsent.ts';
import { listUserCredentials } from '../faceLogin/credentialStore.ts';
import { facePasskeys } from '../faceLogin/facePasskeys.ts';
import { templateInfo } from '../template/templateStore.ts';

export type FaceData = {
  enrolled: boolean;
  enrolledAt: Date | null;
  /** The recognizer the template belongs to and how it is stored. */
  model: string | null;
  encryption: string | null;
  lastUsedAt: Date | null;
  consent: BiometricConsent | null;
  pastConsents: BiometricConsent[];
  /** Names of the devices whose passkey was added after the enrollment. */
  devicesAfterEnrollment: string[];
};

export async function faceData(db: Database, tenantId: string, userId: string): Promise<FaceData> {
  const [{ info, credentials }, lastUsed, consents] = await Promise.all([
    inTenant(db, tenantId, async (sql) => ({ info: await templateInfo(sql, tenantId, userId), credentials: await listUserCredentials(sql, tenantId, userId) })),
    inTenant(db, tenantId, (sql) =>
      sql.query<{ at: Date }>(
        `SELECT at FROM audit_events WHERE tenant_id = $1 AND actor = $2 AND type = 'signin.success' AND data->>'factor' = 'face'
         ORDER BY seq DESC LIMIT 1`,
        [tenantId, userId],
      ),
    ),
    listBiometricConsents(db, tenantId, userId),
  ]);
  return {
    enrolled: info !== undefined,
    enrolledAt: info?.enrolledAt ?? null,
    model: info?.model ?? null,
    // template/params.ts: BFV homomorphic encryption under the user's own key pair.
    encryption: info ? `BFV homomorphic encryption (${info.dim} dimensions) under your own key pair; the secret key is held by the key custodian` : null,
    lastUsedAt: lastUsed.rows[0] ? new Date(lastUsed.rows[0].at) : null,
    consent: consents.find((c) => c.revokedAt === null) ?? null,
    pastConsents: consents.filter((c) => c.revokedAt !== null),
    devicesAfterEnrollment: facePasskeys(credentials, info?.enrolledAt).afterEnrollment.map((c) => c.name),
  };
}
