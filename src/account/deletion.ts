/**
 * Deletion that is final (GDPR art. 17, BIPA destruction): deleting face data, withdrawing the
 * biometric consent, deleting the whole account. Nothing is soft-deleted or archived: template
 * rows are deleted and the user's custodian key is shredded first, so any copy of the template
 * (a backup) can no longer be matched. Deleting the account removes every row of the user in
 * one transaction (OIDC artifacts explicitly, the rest by the foreign keys to `users`), the
 * user's keys in the key-value store, and rewrites the user's past audit rows to name only a
 * pseudonym — a keyed hash of the user id — as does the audit row recording the deletion.
 */
import { appendAudit } from '../audit/log.ts';
import { pseudonymizeAuditRows } from '../audit/redaction.ts';
import { NotFoundError } from '../errors.ts';
import { revokeBiometricConsent as revokeConsentRecord } from '../faceLogin/biometricConsent.ts';
import type { FaceServices } from '../faceLogin/faceServices.ts';
import { isUuid } from '../ids.ts';
import { deleteAccountPayloads, deleteAccountStoreEntries } from '../oidc/adapter.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { deleteTemplate } from '../template/templateStore.ts';
import type { AccountDeps } from './deps.ts';
import { resetAttempts } from './lockout.ts';
import { inTenant, validateTenantId } from './tenants.ts';

/**
 * The account services plus the face services when this deployment has them; without them no
 * template can have been enrolled through it, and a leftover template row is deleted directly.
 */
export type DeletionDeps = AccountDeps & { face?: Pick<FaceServices, 'templates'> };

export type FaceDataDeletion = { removed: boolean };
/** `kvKeys`: in-flight entries naming the user that were deleted (attempt counters are reset besides). */
export type AccountDeletion = { pseudonym: string; oidcRows: number; redactedEvents: number; kvKeys: number };

/** Short-lived key-value entries whose value names the user (an in-flight capture, enrollment, sign-in). */
const USER_VALUE_PREFIXES = (tenantId: string) => ['capture-nonce:', `capture-user:${tenantId}:`, `pending-login:${tenantId}:`, 'webauthn-registration:'];
const FACE_VALUE_PREFIXES = (tenantId: string) => ['capture-nonce:', `capture-user:${tenantId}:`];

/** The reference that stands for a deleted user in the audit log: a keyed hash of tenant and user id. */
export function userPseudonym(deps: Pick<AccountDeps, 'dataKey'>, tenantId: string, userId: string): string {
  return `pseudonym:${deps.dataKey.mac('user-pseudonym', `${tenantId}\n${userId}`)}`;
}

async function requireUser(deps: DeletionDeps, tenantId: string, userId: string): Promise<{ username: string }> {
  validateTenantId(tenantId);
  if (!isUuid(userId)) throw new NotFoundError('user.not_found', 'no such user');
  const { rows } = await inTenant(deps.db, tenantId, (sql) =>
    sql.query<{ username: string }>('SELECT username FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, userId]),
  );
  if (!rows[0]) throw new NotFoundError('user.not_found', 'no such user');
  return rows[0];
}

/** Deletes the keys under `prefixes` whose value names `userId` (their keys are random or interaction ids). */
async function deleteKeysNaming(kv: KeyValueStore, prefixes: string[], userId: string): Promise<number> {
  let deleted = 0;
  for (const prefix of prefixes) {
    for (const key of await kv.keys(prefix)) {
      const value = await kv.get(key);
      if (value !== null && value.includes(userId)) {
        await kv.delete(key);
        deleted++;
      }
    }
  }
  return deleted;
}

/** Shreds the key, deletes the template row; true when there was something to remove. */
async function removeTemplate(deps: DeletionDeps, tenantId: string, userId: string): Promise<boolean> {
  if (deps.face) return deps.face.templates().remove(tenantId, userId);
  // Without face services there is no custodian to ask, and the provider's role cannot touch the
  // custodian's tables (0007): the template row goes here; a key left behind goes with the user
  // row (ON DELETE CASCADE) and opens nothing without its template.
  return deps.db.withTenant(tenantId, (sql) => deleteTemplate(sql, tenantId, userId));
}

/**
 * Deletes the user's face data: the custodian key (shredded), the template row, face sign-ins in
 * flight and the face attempt counter. The passkeys stay: they are devices, not biometric data,
 * and are removed on their own (account area) or with the account. Audited `face.data_deleted`.
 */
export async function deleteFaceData(deps: DeletionDeps, tenantId: string, userId: string, actor: string): Promise<FaceDataDeletion> {
  await requireUser(deps, tenantId, userId);
  const removed = await removeTemplate(deps, tenantId, userId);
  await deleteKeysNaming(deps.kv, FACE_VALUE_PREFIXES(tenantId), userId);
  await resetAttempts(deps, { tenantId, subject: userId, factor: 'face' });
  await deps.db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type: 'face.data_deleted', actor, subject: userId, data: { removed } }));
  return { removed };
}

/**
 * Withdraws the biometric consent (the record stays, marked revoked, audited) and deletes the
 * face data, which nothing else allows keeping. `revoked` false: no consent was in force.
 */
export async function revokeBiometricConsent(deps: DeletionDeps, tenantId: string, userId: string, actor: string): Promise<{ revoked: boolean; removed: boolean }> {
  await requireUser(deps, tenantId, userId);
  let removed = false;
  const revoked = await revokeConsentRecord(
    deps.db,
    {
      remove: async () => {
        removed = (await deleteFaceData(deps, tenantId, userId, actor)).removed;
        return removed;
      },
    },
    tenantId,
    userId,
    actor,
  );
  return { revoked, removed };
}

/**
 * Deletes the account. The custodian key is shredded first (the custodian may be another
 * service, outside this transaction; if what follows fails, the face data is already dead and
 * a retry finishes). Then in one transaction: the user's OIDC rows (sessions, grants, tokens,
 * codes, interactions), the user row and with it, through ON DELETE CASCADE, credentials,
 * factors, passkeys, templates and consents; the user's audit rows pseudonymized; and
 * `account.deleted` recorded under the pseudonym. Last, the user's key-value entries (attempt
 * counters, nonces, held sign-ins). `actor` equal to the user is recorded as the pseudonym too.
 */
export async function deleteAccount(deps: DeletionDeps, tenantId: string, userId: string, actor: string): Promise<AccountDeletion> {
  const { username } = await requireUser(deps, tenantId, userId);
  await removeTemplate(deps, tenantId, userId);
  const pseudonym = userPseudonym(deps, tenantId, userId);
  const recordedActor = actor === userId || actor === username ? pseudonym : actor;
  const result = await inTenant(deps.db, tenantId, async (sql) => {
    const { rows } = await sql.query<{ credential_id: string }>(
      'SELECT w.credential_id FROM users u LEFT JOIN webauthn_credentials w ON w.tenant_id = u.tenant_id AND w.user_id = u.id WHERE u.tenant_id = $1 AND u.id = $2 FOR UPDATE OF u',
      [tenantId, userId],
    );
    if (rows.length === 0) {
      // A concurrent deletion got here first; the custodian's audit row of the shredding above
      // came after its pseudonymization, so it is pseudonymized here.
      await pseudonymizeAuditRows(sql, tenantId, [userId, username], pseudonym);
      return undefined;
    }
    const oidcRows = await deleteAccountPayloads(sql, deps.dataKey, tenantId, userId);
    // The custodian's rows of the user (key, passkeys, nonces) go with the user row (0007's
    // ON DELETE CASCADE), also when the custodian was down for the shredding above.
    await sql.query('DELETE FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, userId]);
    const identifiers = [userId, username, ...rows.map((r) => r.credential_id).filter((id): id is string => id !== null)];
    const redactedEvents = await pseudonymizeAuditRows(sql, tenantId, identifiers, pseudonym);
    await appendAudit(sql, tenantId, { type: 'account.deleted', actor: recordedActor, subject: pseudonym, data: { oidcRows, redactedEvents } });
    return { oidcRows, redactedEvents };
  });
  if (!result) throw new NotFoundError('user.not_found', 'no such user');
  // Codes and access tokens in the store: unusable already (their grant is gone), deleted all the same.
  const kvKeys = (await deleteKeysNaming(deps.kv, USER_VALUE_PREFIXES(tenantId), userId)) + (await deleteAccountStoreEntries(deps.kv, deps.dataKey, tenantId, userId));
  for (const factor of ['pin', 'totp', 'face'] as const) await resetAttempts(deps, { tenantId, subject: userId, factor });
  return { pseudonym, ...result, kvKeys };
}
