/**
 * The review's oracle attack (Abidin–Mitrokotsa 2014) against the decision-only custodian: a
 * caller who multiplies a stored template by x^k + 256·x^(k+1) and masks it used to read back
 * t_k + 256·t_(k+1); now every answer is accept or reject. (Bounding how many such bits a caller
 * may ask for is the attempt binding's job, not this test's.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { bfv, loadCiphertext, plaintextOf, serialize } from '../../src/template/bfv.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { createFaceTemplates } from '../../src/template/faceTemplates.ts';
import { findTemplate } from '../../src/template/templateStore.ts';
import { quantize } from '../../src/template/quantize.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { attemptsFor, TEST_RP } from '../support/liveAttempt.ts';
import { seedTenant, seedUser, testStores, testKekRing } from '../template/fixtures.ts';
import { randomUnit } from '../template/vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
// Every request here carries a valid live attempt: what is tested is what a bound request can learn.
const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: testKekRing(), rp: TEST_RP, decryptLimit: 1000 });
const templates = createFaceTemplates({ db, custodian, model: 'test-128', blinders: { perTemplate: 0, templates: 0 } });

test('a template multiplied by x^k + 256·x^(k+1) and masked yields accept or reject, never its coefficients', async () => {
  const userId = await seedUser(db, 'acme');
  const face = randomUnit(128);
  const t = quantize(face);
  const attempts = await attemptsFor(custodian, 'acme', userId);
  await templates.enroll('acme', userId, face);
  const stored = (await db.withTenant('acme', (sql) => findTemplate(sql, 'acme', userId)))!;
  const publicKey = (await db.withTenant('acme', (sql) => sql.query<{ public_key: Uint8Array }>('SELECT public_key FROM face_templates WHERE user_id = $1', [userId]))).rows[0].public_key;
  const b = await bfv();
  const answers: unknown[] = [];
  for (const k of [0, 1, 2, 3]) {
    const multiplier = new Uint32Array(k + 2);
    multiplier[k] = 1;
    multiplier[k + 1] = 256;
    using template = loadCiphertext(b, stored.ciphertext);
    using plain = plaintextOf(b, multiplier);
    using product = new b.seal.Ciphertext();
    b.evaluator.plainTransformToNttInplace(plain, b.dataParmsId);
    b.evaluator.multiplyPlain(template, plain, product);
    b.evaluator.cipherTransformFromNttInplace(product);
    using blind = loadCiphertext(b, await makeBlinder(new Uint8Array(publicKey)));
    b.evaluator.addInplace(product, blind);
    const answer = await custodian.decideMatch('acme', userId, { ciphertext: serialize(b, product), attempt: await attempts.next() });
    answers.push(answer);
    // The one bit there is: the sign of t_k + 256·t_(k+1) — 8 bits of it used to come back exactly.
    assert.equal(answer, t[k] + 256 * t[k + 1] >= 0 ? 'accept' : 'reject');
  }
  assert.ok(answers.every((a) => a === 'accept' || a === 'reject'), 'only the two decisions come back');
});

test('match() with the probe 127·e_k gives one bit, not t_k', async () => {
  const userId = await seedUser(db, 'acme');
  const attempts = await attemptsFor(custodian, 'acme', userId);
  await templates.enroll('acme', userId, randomUnit(128));
  for (const k of [0, 5]) {
    const probe = new Float32Array(128);
    probe[k] = 1;
    const answer = await templates.match('acme', userId, probe, { threshold: 0, attempt: await attempts.next() });
    assert.deepEqual(Object.keys(answer), ['accepted']);
    assert.equal(typeof answer.accepted, 'boolean');
  }
});
