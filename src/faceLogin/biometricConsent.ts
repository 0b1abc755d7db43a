/**
 * The user's explicit consent to biometric processing, the precondition for enrolling or checking
 * a face. The only module that queries `biometric_consents`: a consent is given to one version of
 * the consent text, is in force until revoked, and is kept as a record afterwards. Giving and
 * revoking are audited in the same transaction.
 */
import { appendAudit } from '../audit/log.ts';
import { NotFoundError, faceLoginError } from '../errors.ts';
import { inTenant, validateTenantId } from '../account/tenants.ts';
import type { Database } from '../store/db.ts';
import type { FaceTemplates } from '../template/faceTemplates.ts';
import { isUuid } from '../ids.ts';
import { CONSENT_TEXT } from './consentText.ts';

export type BiometricConsent = { textVersion: string; givenAt: Date; revokedAt: Date | null };

type ConsentRow = { text_version: string; given_at: Date; revoked_at: Date | null };
const toConsent = (r: ConsentRow): BiometricConsent => ({ textVersion: r.text_version, givenAt: new Date(r.given_at), revokedAt: r.revoked_at && new Date(r.revoked_at) });

function checkUser(userId: string): void {
  if (!isUuid(userId)) throw new NotFoundError('user.not_found', 'no such user');
}

/**
 * Records consent to the text version the user was shown; it must be the current one
 * (`consent.outdated_text` otherwise). Consent already in force for this version is kept as is;
 * one for an older version is replaced.
 */
export async function recordBiometricConsent(db: Database, tenantId: string, userId: string, textVersion: string, actor: string = userId): Promise<BiometricConsent> {
  checkUser(userId);
  if (textVersion !== CONSENT_TEXT.version) throw faceLoginError('consent.outdated_text', 'the consent text has changed; read it again');
  return inTenant(db, tenantId, async (sql) => {
    // One writer per user, so two tabs agreeing at once record one consent.
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('biometric_consent:' || $1 || ':' || $2))`, [tenantId, userId]);
    const current = (
      await sql.query<ConsentRow>(
        'SELECT text_version, given_at, revoked_at FROM biometric_consents WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL',
        [tenantId, userId],
      )
    ).rows[0];
    if (current?.text_version === textVersion) return toConsent(current);
    if (current) await sql.query('UPDATE biometric_consents SET revoked_at = clock_timestamp() WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL', [tenantId, userId]);
    let rows: ConsentRow[];
    try {
      ({ rows } = await sql.query<ConsentRow>(
        'INSERT INTO biometric_consents (tenant_id, user_id, text_version) VALUES ($1, $2, $3) RETURNING text_version, given_at, revoked_at',
        [tenantId, userId, textVersion],
      ));
    } catch (e) {
      if ((e as { code?: string }).code === '23503') throw new NotFoundError('user.not_found', 'no such user');
      throw e;
    }
    await appendAudit(sql, tenantId, { type: 'biometric_consent.given', actor, subject: userId, data: { textVersion, replacedVersion: current?.text_version ?? null } });
    return toConsent(rows[0]);
  });
}

/**
 * Withdraws consent: the consent in force is marked revoked (audited), which stops face sign-in
 * at once, and then the user's face data is removed (key shredded, template deleted), since
 * nothing else allows keeping it. False when no consent was in force (face data is still removed).
 */
export async function revokeBiometricConsent(
  db: Database,
  faceData: Pick<FaceTemplates, 'remove'>,
  tenantId: string,
  userId: string,
  actor: string = userId,
): Promise<boolean> {
  checkUser(userId);
  const revoked = await inTenant(db, tenantId, async (sql) => {
    const { rows } = await sql.query<{ text_version: string }>(
      'UPDATE biometric_consents SET revoked_at = clock_timestamp() WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING text_version',
      [tenantId, userId],
    );
    if (!rows[0]) return false;
    await appendAudit(sql, tenantId, { type: 'biometric_consent.revoked', actor, subject: userId, data: { textVersion: rows[0].text_version } });
    return true;
  });
  await faceData.remove(tenantId, userId);
  return revoked;
}

/** The user's consents, newest first: the one in force (if any) and the revoked ones. */
export async function listBiometricConsents(db: Database, tenantId: string, userId: string): Promise<BiometricConsent[]> {
  if (!isUuid(userId)) return [];
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<ConsentRow>('SELECT text_version, given_at, revoked_at FROM biometric_consents WHERE tenant_id = $1 AND user_id = $2 ORDER BY given_at DESC', [tenantId, userId]),
  );
  return rows.map(toConsent);
}

/** Whether the user's consent to the current text is in force. */
export async function hasBiometricConsent(db: Database, tenantId: string, userId: string): Promise<boolean> {
  validateTenantId(tenantId);
  if (!isUuid(userId)) return false;
  const { rows } = await db.withTenant(tenantId, (sql) =>
    sql.query('SELECT 1 FROM biometric_consents WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND text_version = $3', [tenantId, userId, CONSENT_TEXT.version]),
  );
  return rows.length > 0;
}

/** Throws AuthError `consent.required` (403) unless the user's consent to the current text is in force. */
export async function assertBiometricConsent(db: Database, tenantId: string, userId: string): Promise<void> {
  if (!(await hasBiometricConsent(db, tenantId, userId))) throw faceLoginError('consent.required', 'face sign-in needs your consent first');
}
