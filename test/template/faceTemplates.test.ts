import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { createFaceTemplates, type FaceTemplates } from '../../src/template/faceTemplates.ts';
import { attemptsFor, deviceBeforeEnrollment, matchLive, TEST_RP } from '../support/liveAttempt.ts';
import { auditTypes, newKek, seedTenant, seedUser, testStores } from './fixtures.ts';
import { cosine, normalise, randomUnit } from './vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
await seedTenant(db, 'globex');
const k1 = newKek('k1');
const cdb = db.forRole(CUSTODIAN_ROLE);
const custodian = createLocalCustodian({ db: cdb, kv, keks: [k1], rp: TEST_RP });
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
  assert.equal(await templates.remove('acme', userId), true, 'the restored row is deleted');
  assert.equal(await templates.remove('acme', userId), false);
});

test('KEK rotation leaves stored templates byte-identical and matching keeps working', async () => {
  const userId = await userWithDevice();
  const face = randomUnit(128);
  await templates.enroll('acme', userId, face.slice());
  const before = await templateRow('acme', userId);
  const k2 = newKek('k2');
  await createLocalCustodian({ db: cdb, kv, keks: [k2, k1], rp: TEST_RP }).rewrapAll();
  assert.deepEqual(await templateRow('acme', userId), before);
  const rotated = createFaceTemplates({ db, custodian: createLocalCustodian({ db: cdb, kv, keks: [k2], rp: TEST_RP }), model: 'test-128' });
  assert.deepEqual(await match(rotated, 'acme', userId, face.slice(), 0.98), { accepted: true });
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
