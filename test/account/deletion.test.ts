/**
 * Deletion is final: after deleting face data, revoking the biometric consent or deleting the
 * account, a scan of every table and every key finds nothing of the user (except the
 * pseudonymous audit rows recording it), a template copied before the deletion cannot be
 * matched, and the audit chain still verifies while an edit of a pseudonymized row is caught.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTenant } from '../../src/account/tenants.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { reserveAttempt, settleAttempt } from '../../src/account/lockout.ts';
import { deleteAccount, deleteFaceData, revokeBiometricConsent, userPseudonym, type DeletionDeps } from '../../src/account/deletion.ts';
import { recordBiometricConsent, hasBiometricConsent } from '../../src/faceLogin/biometricConsent.ts';
import { faceReadiness, isFaceReady } from '../../src/faceLogin/faceReadiness.ts';
import { CONSENT_TEXT } from '../../src/faceLogin/consentText.ts';
import { issueCaptureNonce } from '../../src/faceLogin/captureNonce.ts';
import { holdLogin } from '../../src/faceLogin/pendingLogin.ts';
import { beginPasskeyRegistration, finishPasskeyRegistration } from '../../src/faceLogin/passkeyRegistration.ts';
import { relyingPartyFrom } from '../../src/faceLogin/relyingParty.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import type { Custodian } from '../../src/custodian/custodian.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { deviceBeforeEnrollment, matchLive } from '../support/liveAttempt.ts';
import { createFaceTemplates } from '../../src/template/faceTemplates.ts';
import { adapterFactory } from '../../src/oidc/adapter.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { freshDatabase, freshKeyValueStore, type TestDatabase } from '../support/services.ts';
import { SoftAuthenticator } from '../support/softAuthenticator.ts';
import { randomUnit } from '../template/vectors.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import { testKekRing } from '../template/fixtures.ts';

const T = 'acme';
const OTHER = 'globex';
let db: TestDatabase;
let kv: KeyValueStore;
let deps: DeletionDeps;
const templates = () => deps.face!.templates();
const rp = relyingPartyFrom('https://id.acme.example');
let custodian: Custodian;
const matchFace = (tenantId: string, userId: string, probe: Float32Array) => matchLive(templates(), tenantId, userId, probe, 0.9);

before(async () => {
  db = await freshDatabase();
  kv = freshKeyValueStore();
  await createTenant(db, { id: T, name: 'Acme' }, 'test');
  await createTenant(db, { id: OTHER, name: 'Globex' }, 'test');
  custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: testKekRing(), rp });
  const faceTemplates = createFaceTemplates({ db, custodian, model: 'test-128' });
  deps = { db, kv, dataKey: db.dataKey, face: { templates: () => faceTemplates } };
});
after(async () => {
  await kv.close();
  await db.close();
});

/** A user with everything facegate can hold about one: PIN, passkey, consent, template, OIDC rows, attempt counters, in-flight nonces. */
async function fullUser(tenantId: string): Promise<User & { credentialId: string; face: Float32Array }> {
  const user = await createUser(db, tenantId, { username: `u-${randomBytes(4).toString('hex')}` }, 'test');
  await setPin(db, tenantId, user.id, '482915', 'test');
  const authenticator = new SoftAuthenticator({ origin: rp.origin, rpID: rp.rpID });
  const options = await beginPasskeyRegistration({ db, kv, rp, custodian }, { tenantId, userId: user.id, userName: user.username });
  const { credentialId } = await finishPasskeyRegistration({ db, kv, rp, custodian }, { tenantId, userId: user.id, response: authenticator.register(options) });
  await recordBiometricConsent(db, tenantId, user.id, CONSENT_TEXT.version);
  const face = randomUnit(128);
  await deviceBeforeEnrollment(custodian, tenantId, user.id, rp);
  await templates().enroll(tenantId, user.id, face.slice());
  const Adapter = adapterFactory(db, db.dataKey, tenantId);
  const grantId = `grant-${randomBytes(6).toString('hex')}`;
  await new Adapter('Grant').upsert(grantId, { accountId: user.id, clientId: 'rp' }, 3600);
  await new Adapter('Session').upsert(`sess-${grantId}`, { accountId: user.id, uid: `uid-${grantId}` }, 3600);
  await new Adapter('RefreshToken').upsert(`rt-${grantId}`, { accountId: user.id, grantId }, 3600);
  // A token of the grant that (unlike what oidc-provider writes) names no account: found through its grant.
  await new Adapter('AccessToken').upsert(`at-${grantId}`, { grantId }, 3600);
  await new Adapter('Interaction').upsert(`int-${grantId}`, { uid: `int-${grantId}`, result: { login: { accountId: user.id } } }, 3600);
  // A row written before migration 0008 named its account: found by opening its payload.
  await new Adapter('AuthorizationCode').upsert(`code-${grantId}`, { accountId: user.id, grantId: 'elsewhere' }, 3600);
  await db.asOwner((sql) => sql.query("UPDATE oidc_payloads SET account_id = NULL WHERE model = 'AuthorizationCode'"));
  const s = { tenantId, subject: user.id, factor: 'pin' as const };
  await settleAttempt(deps, s, await reserveAttempt(deps, s), 'failure');
  await issueCaptureNonce(kv, { tenantId, interactionUid: `int${user.id.slice(0, 8)}`, userId: user.id, purpose: 'verify' });
  await kv.set(`capture-user:${tenantId}:int${user.id.slice(0, 8)}`, user.id, 60_000);
  await holdLogin(kv, tenantId, `int${user.id.slice(0, 8)}`, { accountId: user.id, acr: 'urn:facegate:loa:1', amr: ['pin'], signedInAt: Date.now() } as never);
  return { ...user, credentialId, face };
}

/** Every row of every table (as the owner, past RLS) whose text/uuid/jsonb/bytea columns contain one of `needles`. */
async function rowsNaming(needles: string[]): Promise<string[]> {
  return db.asOwner(async (sql) => {
    const { rows: columns } = await sql.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type IN ('text', 'uuid', 'jsonb', 'character varying', 'ARRAY', 'bytea')`,
    );
    const found: string[] = [];
    for (const c of columns) {
      const expr = c.data_type === 'bytea' ? `encode("${c.column_name}", 'escape')` : `"${c.column_name}"::text`;
      const { rows } = await sql.query<{ t: string }>(`SELECT ${expr} AS t FROM "${c.table_name}" WHERE ${expr} LIKE ANY($1)`, [needles.map((n) => `%${n}%`)]);
      for (const r of rows) found.push(`${c.table_name}.${c.column_name}: ${r.t.slice(0, 200)}`);
    }
    return found;
  });
}

/** Every key-value entry (key or value) naming one of `needles`. */
async function kvNaming(needles: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const key of await kv.keys('')) {
    const value = (await kv.get(key)) ?? '';
    if (needles.some((n) => key.includes(n) || value.includes(n))) found.push(key);
  }
  return found;
}

async function templateRow(tenantId: string, userId: string) {
  return (await db.asOwner((sql) => sql.query('SELECT * FROM face_templates WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]))).rows[0];
}

/** Puts a copied template row back (as from a backup), with a user row for its foreign key. */
async function restoreBackup(tenantId: string, user: User, row: Record<string, unknown>) {
  await db.asOwner(async (sql) => {
    await sql.query('INSERT INTO users (tenant_id, id, username) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [tenantId, user.id, user.username]);
    await sql.query(
      'INSERT INTO face_templates (tenant_id, user_id, model, dim, public_key, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)',
      [tenantId, user.id, row.model, row.dim, row.public_key, row.ciphertext],
    );
  });
}

async function auditRows(tenantId: string) {
  return (await db.withTenant(tenantId, (sql) => sql.query<{ seq: string; type: string; actor: string | null; subject: string | null; data: Record<string, unknown> }>(
    'SELECT seq, type, actor, subject, data FROM audit_events ORDER BY seq',
  ))).rows;
}

describe('deleteAccount', () => {
  it('leaves no row and no key naming the user, only pseudonymous audit rows; the chain still verifies', async () => {
    const alice = await fullUser(T);
    const bob = await fullUser(T);
    const needles = [alice.id, alice.username, alice.credentialId];
    assert.ok((await rowsNaming(needles)).length > 5, 'the scan finds the user before deletion');
    assert.ok((await kvNaming([alice.id])).length >= 3, 'the kv scan finds the user before deletion');
    const backup = await templateRow(T, alice.id);
    assert.ok(backup);
    const keysBefore = await kv.keys(`lockout:${T}:`);
    assert.equal(keysBefore.length, 2);

    const result = await deleteAccount(deps, T, alice.id, alice.id);
    assert.equal(result.pseudonym, userPseudonym(deps, T, alice.id));
    assert.equal(result.oidcRows, 6);
    assert.ok(result.redactedEvents >= 6, `redacted ${result.redactedEvents}`);
    assert.equal(result.kvKeys, 3);

    assert.deepEqual(await rowsNaming(needles), []);
    assert.deepEqual(await kvNaming([alice.id]), []);
    assert.equal((await kv.keys(`lockout:${T}:`)).length, 1, "only bob's counter is left");
    const custodianKeys = await db.asOwner((sql) => sql.query('SELECT user_id FROM custodian_keys'));
    assert.deepEqual(custodianKeys.rows.map((r) => r.user_id), [bob.id]);
    // The deletion itself is recorded, under the pseudonym (actor too: the user deleted it).
    const deleted = (await auditRows(T)).filter((r) => r.type === 'account.deleted');
    assert.deepEqual(deleted.map((r) => [r.actor, r.subject]), [[result.pseudonym, result.pseudonym]]);
    // Bob is untouched: his OIDC rows, his face.
    const bobRows = await db.asOwner((sql) => sql.query('SELECT count(*)::int AS n FROM oidc_payloads'));
    assert.equal(bobRows.rows[0].n, 6);
    assert.ok((await matchFace(T, bob.id, bob.face.slice())).accepted);

    const verified = await verifyAuditChain(db, T);
    assert.equal(verified.ok, true, JSON.stringify(verified.problem));

    // A copy of the template from before the deletion cannot be matched: its key is shredded.
    await restoreBackup(T, alice, backup);
    // Her passkeys went with the account; a device registered now finds no key to open.
    await deviceBeforeEnrollment(custodian, T, alice.id, rp);
    await assert.rejects(matchFace(T, alice.id, alice.face.slice()), { code: 'template.not_enrolled' });
  });

  it('detects an edit of a pseudonymized audit row (the redaction MAC no longer holds)', async () => {
    const carol = await fullUser(T);
    const { pseudonym } = await deleteAccount(deps, T, carol.id, 'admin:ops');
    const redacted = (await auditRows(T)).find((r) => r.subject === pseudonym && r.type === 'biometric_consent.given')!;
    assert.ok(redacted);
    assert.equal((await verifyAuditChain(db, T)).ok, true);
    await db.asOwner((sql) => sql.query(`UPDATE audit_events SET data = '{"textVersion":"forged"}' WHERE tenant_id = $1 AND seq = $2`, [T, redacted.seq]));
    assert.deepEqual((await verifyAuditChain(db, T)).problem, { seq: Number(redacted.seq), reason: 'hash_mismatch' });
    // Putting a pseudonym into a row that was never redacted is caught too.
    await db.asOwner((sql) => sql.query(`UPDATE audit_events SET data = '{"textVersion":"x"}', redaction_mac = NULL WHERE tenant_id = $1 AND seq = $2`, [T, redacted.seq]));
    assert.equal((await verifyAuditChain(db, T)).ok, false);
  });

  it('answers user.not_found for an unknown, malformed or other-tenant id, and deletes nothing', async () => {
    const dave = await fullUser(T);
    await assert.rejects(deleteAccount(deps, T, '00000000-0000-4000-8000-000000000000', 'test'), { code: 'user.not_found', status: 404 });
    await assert.rejects(deleteAccount(deps, T, 'not-a-uuid', 'test'), { code: 'user.not_found' });
    await assert.rejects(deleteAccount(deps, OTHER, dave.id, 'test'), { code: 'user.not_found' });
    await assert.rejects(deleteAccount(deps, 'Bad Tenant', dave.id, 'test'), { code: 'tenant.invalid_id' });
    assert.ok((await matchFace(T, dave.id, dave.face.slice())).accepted);
  });

  it('of two parallel deletions of one account, one succeeds and the other finds no user', async () => {
    const erin = await fullUser(T);
    const results = await Promise.allSettled([deleteAccount(deps, T, erin.id, 'test'), deleteAccount(deps, T, erin.id, 'test')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(rejected.reason.code, 'user.not_found');
    assert.deepEqual(await rowsNaming([erin.id, erin.username]), []);
    assert.equal((await auditRows(T)).filter((r) => r.type === 'account.deleted' && r.subject === userPseudonym(deps, T, erin.id)).length, 1);
  });
});

describe('deleteFaceData and revokeBiometricConsent', () => {
  it('deleteFaceData shreds the key and deletes the template: a backup no longer matches; PIN, passkey and account stay', async () => {
    const frank = await fullUser(T);
    const backup = await templateRow(T, frank.id);
    assert.equal(isFaceReady(await faceReadiness(deps, T, frank.id)), true);
    assert.deepEqual(await deleteFaceData(deps, T, frank.id, frank.id), { removed: true });
    assert.equal(await templateRow(T, frank.id), undefined);
    assert.equal(isFaceReady(await faceReadiness(deps, T, frank.id)), false, 'face sign-in is no longer offered');
    const keys = await db.asOwner((sql) => sql.query('SELECT 1 FROM custodian_keys WHERE user_id = $1', [frank.id]));
    assert.equal(keys.rows.length, 0);
    assert.deepEqual(await kvNaming([`"userId":"${frank.id}"`]), [], 'no capture nonce of the user is left');
    await assert.rejects(matchFace(T, frank.id, frank.face.slice()), { code: 'template.not_enrolled' });
    await restoreBackup(T, frank, backup);
    await assert.rejects(matchFace(T, frank.id, frank.face.slice()), { code: 'template.not_enrolled' });
    assert.equal(await templateRow(T, frank.id), undefined, 'the restored template, useless without its key, is dropped by that match');
    const kept = await db.withTenant(T, (sql) => sql.query('SELECT (SELECT count(*) FROM pin_credentials WHERE user_id = $1)::int + (SELECT count(*) FROM webauthn_credentials WHERE user_id = $1)::int AS n', [frank.id]));
    assert.equal(kept.rows[0].n, 2);
    const events = (await auditRows(T)).filter((r) => r.type === 'face.data_deleted' && r.subject === frank.id);
    assert.deepEqual(events.map((e) => e.data), [{ removed: true }, { removed: true, reason: 'key_gone' }]);
  });

  it('revokeBiometricConsent revokes the consent and deletes the face data', async () => {
    const gina = await fullUser(T);
    assert.deepEqual(await revokeBiometricConsent(deps, T, gina.id, gina.id), { revoked: true, removed: true });
    assert.equal(await hasBiometricConsent(db, T, gina.id), false);
    assert.equal(await templateRow(T, gina.id), undefined);
    await assert.rejects(matchFace(T, gina.id, gina.face.slice()), { code: 'template.not_enrolled' });
    assert.deepEqual(await revokeBiometricConsent(deps, T, gina.id, gina.id), { revoked: false, removed: false });
    await assert.rejects(revokeBiometricConsent(deps, T, 'nope', 'test'), { code: 'user.not_found' });
  });
});
