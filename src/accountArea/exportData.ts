/**
 * The data export (GDPR art. 20): one JSON document with everything the account area shows —
 * profile, devices, factors enrolled, face data described (enrolled when, model, encryption),
 * biometric consents, OIDC grants and sign-in history. The encrypted template is described,
 * never included: it is useless outside this deployment and is biometric data. No PIN hash,
 * TOTP secret or passkey public key either: they are credentials, not information about the user.
 */
import { pinSetAt } from '../account/pin.ts';
import { totpStatus } from '../account/totp.ts';
import type { User } from '../account/users.ts';
import type { Database } from '../store/db.ts';
import { listDevices } from './devices.ts';
import { faceData } from './faceData.ts';
import { listGrants } from './grants.ts';
import { signInHistory } from './history.ts';

/** The export carries up to 1000 history events (the page shows 50). */
const EXPORT_HISTORY = 1000;

export async function exportAccount(db: Database, tenantId: string, user: User, now = new Date()) {
  const [devices, pin, totp, face, grants, history] = await Promise.all([
    listDevices(db, tenantId, user.id),
    pinSetAt(db, tenantId, user.id),
    totpStatus(db, tenantId, user.id),
    faceData(db, tenantId, user.id),
    listGrants(db, tenantId, user.id),
    signInHistory(db, tenantId, user.id, EXPORT_HISTORY),
  ]);
  return {
    format: 'facegate-account-export/1',
    exportedAt: now.toISOString(),
    tenant: tenantId,
    profile: { id: user.id, username: user.username, email: user.email, createdAt: user.createdAt },
    devices: devices.map((d) => ({ name: d.name, createdAt: d.createdAt, lastUsedAt: d.lastUsedAt, synced: d.synced })),
    factors: {
      pin: pin ? { setAt: pin } : null,
      totp: totp ? { confirmed: totp.confirmed, since: totp.updatedAt } : null,
    },
    faceData: {
      enrolled: face.enrolled,
      enrolledAt: face.enrolledAt,
      model: face.model,
      encryption: face.encryption,
      lastUsedAt: face.lastUsedAt,
      note: 'The encrypted face template itself is not exported: it is biometric data and can only be used by this deployment.',
    },
    biometricConsents: [...(face.consent ? [face.consent] : []), ...face.pastConsents],
    grants,
    signInHistory: history,
  };
}
