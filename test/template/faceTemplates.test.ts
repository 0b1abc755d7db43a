import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rotateKek } from '../../src/custodian/kekRotation.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { CUSTODIAN_ROLE, type Database } from '../../src/store/db.ts';
import { createFaceTemplates, type FaceTemplates } from '../../src/template/faceTemplates.ts';
import { attemptsFor, deviceBeforeEnrollment, matchLive, TEST_RP } from '../support/liveAttempt.ts';
import { auditTypes, newKek, seedTenant, seedUser, testStores, testKekRing } from './fixtures.ts';
import { cosine, normalise, randomUnit } from './vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
await seedTenant(db, 'globex');
const k1 = newKek('k1');
const cdb = db.forRole(CUSTODIAN_ROLE);
const custodian = createLocalCustodian({ db: cdb, kv, keks: testKekRing(k1), rp: TEST_RP });
const templates = createFaceTemplates({ db, custodian, model: 'test-128' });
const match = (t: FaceTemplates, tenantId: string, userId: string, probe: Float32Array, threshold: number) => matchLive(t, tenantId, userId, probe, threshold);
/** A user whose device passkey the custodian knows before anything is enrolled. */
const userWithDevice = async () => {
  const userId = await seedUser(db, 'acme');
  await deviceBeforeEnrollment(custodian, 'acme', userId);
  return userId;
};

type Row = { model: string; dim: number; public_key: Uint8Array; ciphertext: Uint8Array };
const templateRow = async (tenantId: string, userId: string) =>
  (await db.withTenant(tenantId, (sql) => sql.query<Row>('SELECT model, dim, public_key, ciphertext FROM face_templates WHERE user_id = $1', [userId]))).rows[0];

test('enroll then match decides at the threshold as the cosine does (outside the quantization error), only a decision comes back, embeddings are wiped', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  const same = normalise(Float32Array.from(face, (x, i) => x + 0.2 * randomUnit(128)[i]));
  const expected = cosine(face, same);
  const enrolled = face.slice();
  await templates.enroll('acme', userId, enrolled);
  assert.ok(enrolled.every((x) => x === 0), 'enrolled embedding wiped');
  const probe = same.slice();
  const answer = await match(templates, 'acme', userId, probe, expected - 0.02);
  assert.deepEqual(answer, { accepted: true }, 'the answer is the decision and nothing else');
  assert.ok(probe.every((x) => x === 0), 'probe wiped');
  assert.deepEqual(await match(templates, 'acme', userId, same.slice(), Math.min(1, expected + 0.02)), { accepted: false });
  assert.deepEqual(await match(templates, 'acme', userId, randomUnit(128), 0.5), { accepted: false }, 'a stranger');
  // The loa 2 and loa 3 thresholds of the product.
  assert.deepEqual(await match(templates, 'acme', userId, face.slice(), 0.48), { accepted: true });
  await assert.rejects(match(templates, 'acme', userId, face.slice(), 1.5), { code: 'template.bad_threshold' });
  const row = await templateRow('acme', userId);
  assert.equal(row.model, 'test-128');
  assert.equal(row.dim, 128);
  await templates.idle();
});

test('blinders are made ahead: after enrollment the pool serves matches, and a re-enrollment never meets an old blinder', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await templates.enroll('acme', userId, face.slice());
  await templates.idle();
  await templates.enroll('acme', userId, face.slice());
  // Without waiting for the refill: either a fresh pooled blinder or one made on the spot, never a stale one.
  for (let i = 0; i < 3; i++) assert.deepEqual(await match(templates, 'acme', userId, face.slice(), 0.98), { accepted: true });
  await templates.idle();
});

test('prepare (called when a face sign-in starts) makes a blinder for a template the pool no longer held', async () => {
  const small = createFaceTemplates({ db, custodian, model: 'test-128', blinders: { perTemplate: 1, templates: 1 } });
  const [alice, bob] = [await seedUser(db, 'acme'), await seedUser(db, 'acme')];
  await small.enroll('acme', alice, randomUnit(128));
  await small.idle();
  // Bob's enrollment takes the pool's one place: Alice's blinder is dropped.
  await small.enroll('acme', bob, randomUnit(128));
  await small.idle();
  assert.equal(await small.prepare('acme', alice), true);
  assert.equal(await small.prepare('acme', await seedUser(db, 'acme')), false, 'no template, nothing to prepare');
  await small.idle();
});

test('prepare reads the template ahead: the match reads only its version, and never uses a template replaced meanwhile', async () => {
  const queries: string[] = [];
  const watched: Database = {
    ...db,
    withTenant: (tenantId, fn) => db.withTenant(tenantId, (sql) => fn({ ...sql, query: (text, params) => (queries.push(text), sql.query(text, params)) })),
  };
  const ahead = createFaceTemplates({ db: watched, custodian, model: 'test-128' });
  const elsewhere = createFaceTemplates({ db, custodian, model: 'test-128' });
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await ahead.enroll('acme', userId, face.slice());
  await ahead.prepare('acme', userId);
  await ahead.idle();
  queries.length = 0;
  assert.deepEqual(await match(ahead, 'acme', userId, face.slice(), 0.98), { accepted: true });
  assert.ok(!queries.some((q) => /ciphertext/.test(q)), 'the ciphertext was read at prepare, not by the match');
  // Starts repeated without an upload read the template once.
  queries.length = 0;
  await ahead.prepare('acme', userId);
  await ahead.prepare('acme', userId);
  assert.equal(queries.filter((q) => /ciphertext/.test(q)).length, 1);
  await ahead.idle();
  assert.deepEqual(await match(ahead, 'acme', userId, face.slice(), 0.98), { accepted: true });
  // Read at the start, then re-enrolled by another process before the upload: the old template
  // (made for the replaced key) would be refused by the custodian as custodian.wrong_key.
  await ahead.prepare('acme', userId);
  const newFace = randomUnit(128);
  await elsewhere.enroll('acme', userId, newFace.slice());
  queries.length = 0;
  assert.deepEqual(await match(ahead, 'acme', userId, newFace.slice(), 0.98), { accepted: true });
  assert.ok(queries.some((q) => /ciphertext/.test(q)), 'the current template was read');
  await ahead.idle();
  await elsewhere.idle();
});

test('crypto-shredding: after remove, even a restored copy of the template cannot be matched or decrypted', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await templates.enroll('acme', userId, face.slice());
  const backup = await templateRow('acme', userId);
  assert.equal(await templates.remove('acme', userId), true);
  assert.equal(await templateRow('acme', userId), undefined);
  await assert.rejects(match(templates, 'acme', userId, face.slice(), 0.33), { code: 'template.not_enrolled' });
  // A backup of the row restored later is still useless: its secret key is gone.
  await db.withTenant('acme', (sql) =>
    sql.query('INSERT INTO face_templates (tenant_id, user_id, model, dim, public_key, ciphertext) VALUES ($1, $2, $3, $4, $5, $6)', [
      'acme', userId, backup.model, backup.dim, backup.public_key, backup.ciphertext,
    ]),
  );
  await assert.rejects(match(templates, 'acme', userId, face.slice(), 0.33), { code: 'template.not_enrolled' });
  assert.ok((await auditTypes(db, 'acme', userId)).includes('custodian.key_shredded'));
  assert.equal(await templateRow('acme', userId), undefined, 'the restored row, useless without its key, is dropped by the match');
  assert.equal(await templates.remove('acme', userId), false);
});

test('a database restored from before a KEK rotation: the face factor is not enrolled (template dropped), and enrolling again works', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await templates.enroll('acme', userId, face.slice());
  const backup = await cdb.withTenant('acme', (sql) => sql.query<{ kek_id: string; sealed: Uint8Array }>('SELECT kek_id, sealed FROM custodian_keys WHERE user_id = $1', [userId]));
  await rotateKek(cdb, testKekRing(k1), { epochDays: 30, force: true });
  await cdb.withTenant('acme', (sql) => sql.query('UPDATE custodian_keys SET kek_id = $2, sealed = $3 WHERE user_id = $1', [userId, backup.rows[0].kek_id, Buffer.from(backup.rows[0].sealed)]));
  await assert.rejects(match(templates, 'acme', userId, face.slice(), 0.33), { code: 'template.not_enrolled' });
  assert.equal(await templateRow('acme', userId), undefined);
  const { rows } = await db.withTenant('acme', (sql) => sql.query<{ data: object }>("SELECT data FROM audit_events WHERE type = 'face.data_deleted' AND subject = $1", [userId]));
  assert.deepEqual(rows.map((r) => r.data), [{ removed: true, reason: 'key_gone' }]);
  await templates.enroll('acme', userId, face.slice());
  assert.deepEqual(await match(templates, 'acme', userId, face.slice(), 0.98), { accepted: true });
});

test('KEK rotation leaves stored templates byte-identical and matching keeps working', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await templates.enroll('acme', userId, face.slice());
  const before = await templateRow('acme', userId);
  const ring = testKekRing(k1);
  const report = await rotateKek(cdb, ring, { epochDays: 30, force: true });
  assert.ok(report.rewrapped >= 1 && report.destroyed.length === 1);
  assert.deepEqual(await templateRow('acme', userId), before);
  assert.deepEqual(await match(templates, 'acme', userId, face.slice(), 0.98), { accepted: true });
});

test('a template left from an earlier key pair yields an error, not a random decision', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await templates.enroll('acme', userId, face.slice());
  // The key is replaced but the template is not (an interrupted re-enrollment, a restored backup).
  await custodian.createUserKey('acme', userId);
  await assert.rejects(match(templates, 'acme', userId, face.slice(), 0.33), { code: 'custodian.wrong_key' });
});

test('a re-enrollment that fails after the new key leaves the user cleanly not enrolled', async () => {
  const userId = await userWithDevice();
  await templates.enroll('acme', userId, randomUnit(128));
  // The custodian replaces the key, then the encryption step fails (here: an unusable public key).
  const faulty = createFaceTemplates({
    db,
    custodian: { ...custodian, createUserKey: async (t, u) => (await custodian.createUserKey(t, u)).subarray(0, 100) },
    model: 'test-128',
  });
  await assert.rejects(faulty.enroll('acme', userId, randomUnit(128)), { code: 'template.bad_public_key' });
  assert.equal(await templateRow('acme', userId), undefined, 'the old template, now without its key, is gone');
  await assert.rejects(match(templates, 'acme', userId, randomUnit(128), 0.33), { code: 'template.not_enrolled' });
});

test('typed errors: unknown user, not enrolled, other tenant, wrong dimension or model', async () => {
  await assert.rejects(templates.enroll('acme', '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41', randomUnit(128)), { code: 'template.unknown_user' });
  const userId = await userWithDevice();
  await assert.rejects(match(templates, 'acme', userId, randomUnit(128), 0.33), { code: 'template.not_enrolled' });
  await templates.enroll('acme', userId, randomUnit(128));
  // A live attempt of the user's own tenant, presented under another: the template read already finds nothing.
  const attempt = await (await attemptsFor(custodian, 'acme', userId)).next();
  await assert.rejects(templates.match('globex', userId, randomUnit(128), { threshold: 0.33, attempt }), { code: 'template.not_enrolled' }, 'RLS hides other tenants');
  await assert.rejects(match(templates, 'acme', userId, randomUnit(64), 0.33), { code: 'template.dimension_mismatch' });
  const other = createFaceTemplates({ db, custodian, model: 'other-model' });
  await assert.rejects(match(other, 'acme', userId, randomUnit(128), 0.33), { code: 'template.model_mismatch' });
  await assert.rejects(templates.enroll('acme', userId, new Float32Array(128)), { code: 'template.bad_embedding' });
});
