import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CUSTODIAN_METHODS } from '../../src/custodian/custodian.ts';
import * as custodianModule from '../../src/custodian/custodian.ts';
import { COMPACT_SECRET_BYTES, FORMAT_COMPACT } from '../../src/custodian/compactSecretKey.ts';
import { findSealedKey, saveSealedKey } from '../../src/custodian/keyStore.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { openKey, sealKey } from '../../src/custodian/sealedKey.ts';
import { bfv, loadCiphertext, serialize } from '../../src/template/bfv.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { quantize } from '../../src/template/quantize.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { attemptsFor, TEST_RP, type AttemptMaker } from '../support/liveAttempt.ts';
import { auditTypes, newKek, seedTenant, seedUser, testKekRing, testStores } from '../template/fixtures.ts';
import { dot, randomUnit } from '../template/vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
const k1 = newKek('k1');
const cdb = db.forRole(CUSTODIAN_ROLE);
const ring = testKekRing(k1);
const open = (keks = ring, extra: Partial<Parameters<typeof createLocalCustodian>[0]> = {}) => createLocalCustodian({ db: cdb, kv, keks, rp: TEST_RP, ...extra });
const attempts = new Map<string, AttemptMaker>();
/** A user whose device passkey the custodian knows before any key is made (as enrollment requires). */
async function userWithDevice() {
  const userId = await seedUser(db, 'acme');
  attempts.set(userId, await attemptsFor(open(), 'acme', userId));
  return userId;
}
/** A live attempt for the user (its passkey registered on first use). */
async function live(custodian: ReturnType<typeof createLocalCustodian>, userId: string) {
  if (!attempts.has(userId)) attempts.set(userId, await attemptsFor(custodian, 'acme', userId));
  return attempts.get(userId)!.next();
}

/** A result at θ = score (accept) or θ = score + 1 (reject). */
async function matchOnce(custodian: ReturnType<typeof createLocalCustodian>, userId: string, publicKey: Uint8Array, accept = true) {
  const t = quantize(randomUnit(128));
  const p = quantize(randomUnit(128));
  const template = await encryptTemplate(publicKey, [t]);
  const ciphertext = await decisionMatch({ template, probe: p, threshold: dot(p, t) + (accept ? 0 : 1), blinder: await makeBlinder(publicKey) });
  return { template, ciphertext, decrypt: async () => custodian.decideMatch('acme', userId, { ciphertext, attempt: await live(custodian, userId) }) };
}

test('the custodian surface is exactly the narrow set: no general decryption, no key export', () => {
  const custodian = open();
  assert.deepEqual(Object.keys(custodian).sort(), [...CUSTODIAN_METHODS].sort());
  assert.deepEqual(Object.keys(custodianModule), ['CUSTODIAN_METHODS']);
});

test('answers a masked result with accept or reject only, and audits the decision alone', async () => {
  const custodian = open();
  const userId = await userWithDevice();
  const publicKey = await custodian.createUserKey('acme', userId);
  assert.equal(await (await matchOnce(custodian, userId, publicKey, true)).decrypt(), 'accept', 'score = θ accepts');
  assert.equal(await (await matchOnce(custodian, userId, publicKey, false)).decrypt(), 'reject', 'score = θ − 1 rejects');
  assert.deepEqual(await auditTypes(db, 'acme', userId), ['custodian.passkey_registered', 'custodian.key_created', 'custodian.decrypt', 'custodian.decrypt']);
  const { rows } = await db.withTenant('acme', (sql) =>
    sql.query<{ data: object }>("SELECT data FROM audit_events WHERE type = 'custodian.decrypt' AND subject = $1 ORDER BY seq", [userId]),
  );
  assert.deepEqual(rows.map((r) => r.data), [{ kekId: ring.current().id, decision: 'accept' }, { kekId: ring.current().id, decision: 'reject' }], 'no ciphertext, key or score in the audit data');
});

test('the custodian cannot be made to decrypt a template: unmasked ciphertexts are refused', async () => {
  const custodian = open();
  const userId = await userWithDevice();
  const publicKey = await custodian.createUserKey('acme', userId);
  const template = await encryptTemplate(publicKey, [quantize(randomUnit(128))]);
  // As stored (NTT form) it is not even a match result…
  await assert.rejects(custodian.decideMatch('acme', userId, { ciphertext: template, attempt: await live(custodian, userId) }), { code: 'custodian.bad_ciphertext' });
  // …and brought to coefficient form it decrypts to a mostly-zero plaintext, which is refused.
  const b = await bfv();
  using cipher = loadCiphertext(b, template);
  b.evaluator.cipherTransformFromNttInplace(cipher);
  await assert.rejects(custodian.decideMatch('acme', userId, { ciphertext: serialize(b, cipher), attempt: await live(custodian, userId) }), { code: 'custodian.unmasked', status: 422 });
  await assert.rejects(custodian.decideMatch('acme', userId, { ciphertext: new Uint8Array(10), attempt: await live(custodian, userId) }), { code: 'template.bad_ciphertext' });
  assert.deepEqual(await auditTypes(db, 'acme', userId), [
    'custodian.passkey_registered',
    'custodian.key_created',
    'custodian.decrypt_refused',
    'custodian.decrypt_refused',
    'custodian.decrypt_refused',
  ]);
});

test('a result decrypted under another user’s key is refused, never turned into a random decision', async () => {
  const custodian = open();
  const alice = await userWithDevice();
  const bob = await userWithDevice();
  const aliceKey = await custodian.createUserKey('acme', alice);
  await custodian.createUserKey('acme', bob);
  const m = await matchOnce(custodian, alice, aliceKey);
  await assert.rejects(custodian.decideMatch('acme', bob, { ciphertext: m.ciphertext, attempt: await live(custodian, bob) }), { code: 'custodian.wrong_key', status: 409 });
  assert.deepEqual(await auditTypes(db, 'acme', bob), ['custodian.passkey_registered', 'custodian.key_created', 'custodian.decrypt_refused']);
  assert.equal(await m.decrypt(), 'accept');
});

test('decryptions are rate-limited per user', async () => {
  const custodian = open(ring, { decryptLimit: 2, decryptWindowMs: 60_000 });
  const userId = await userWithDevice();
  const publicKey = await custodian.createUserKey('acme', userId);
  const m = await matchOnce(custodian, userId, publicKey);
  await m.decrypt();
  await m.decrypt();
  await assert.rejects(m.decrypt(), (e: { code: string; retryAfterSeconds: number }) => e.code === 'custodian.rate_limited' && e.retryAfterSeconds > 0);
  const other = await userWithDevice();
  const otherKey = await custodian.createUserKey('acme', other);
  await (await matchOnce(custodian, other, otherKey)).decrypt();
});

test('bad ids and unknown users are typed errors', async () => {
  const custodian = open();
  await assert.rejects(custodian.createUserKey('ACME!', '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41'), { code: 'custodian.bad_tenant' });
  await assert.rejects(custodian.decideMatch('acme', 'not-a-uuid', { ciphertext: new Uint8Array(1), attempt: undefined as never }), { code: 'custodian.bad_user' });
  const unknown = '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41';
  await assert.rejects(custodian.createUserKey('acme', unknown), { code: 'custodian.unknown_user', status: 404 });
  await assert.rejects(custodian.issueCaptureNonce('acme', unknown), { code: 'custodian.unknown_user' });
  const keyless = await userWithDevice();
  await assert.rejects(custodian.decideMatch('acme', keyless, { ciphertext: new Uint8Array(1), attempt: await live(custodian, keyless) }), { code: 'custodian.no_key' });
});

test('crypto-shredding: after the key is deleted nothing decrypts the user’s results, and it is audited', async () => {
  const custodian = open();
  const userId = await userWithDevice();
  const publicKey = await custodian.createUserKey('acme', userId);
  const m = await matchOnce(custodian, userId, publicKey);
  assert.equal(await custodian.shredUserKey('acme', userId), true);
  await assert.rejects(m.decrypt(), { code: 'custodian.no_key' });
  assert.equal(await custodian.shredUserKey('acme', userId), false);
  const types = await auditTypes(db, 'acme', userId);
  assert.equal(types.filter((t) => t === 'custodian.key_shredded').length, 2);
  const { rowCount } = await cdb.withTenant('acme', (sql) => sql.query('SELECT 1 FROM custodian_keys WHERE user_id = $1', [userId]));
  assert.equal(rowCount, 0);
});

test('enrollment seals the compact secret (2 KB, not SEAL’s 271 KB), and a key sealed in SEAL’s form before it still decides', async () => {
  const custodian = open();
  const userId = await userWithDevice();
  const publicKey = await custodian.createUserKey('acme', userId);
  const row = (await cdb.withTenant('acme', (sql) => findSealedKey(sql, 'acme', userId)))!;
  const secret = openKey(ring.current(), 'acme', userId, row.sealed);
  assert.equal(secret.length, COMPACT_SECRET_BYTES);
  assert.equal(secret[0], FORMAT_COMPACT);
  assert.equal(await (await matchOnce(custodian, userId, publicKey, true)).decrypt(), 'accept');
  // A row as createUserKey wrote it before the compact form: SEAL's zstd serialization, sealed.
  const legacyUser = await userWithDevice();
  const b = await bfv();
  using keygen = new b.seal.KeyGenerator(b.context);
  using secretKey = keygen.secretKey();
  using legacyPublic = keygen.createPublicKeySerializable();
  const legacy = serialize(b, secretKey, true);
  assert.equal(legacy[0], 0x5e, 'SEAL’s magic, never FORMAT_COMPACT');
  await cdb.withTenant('acme', (sql) => saveSealedKey(sql, 'acme', legacyUser, { kekId: ring.current().id, sealed: sealKey(ring.current(), 'acme', legacyUser, legacy) }));
  const legacyKey = legacyPublic.saveToArray(b.seal.ComprModeType.zstd) as Uint8Array;
  assert.equal(await (await matchOnce(custodian, legacyUser, legacyKey, true)).decrypt(), 'accept');
  assert.equal(await (await matchOnce(custodian, legacyUser, legacyKey, false)).decrypt(), 'reject');
});
