/**
 * The review's oracle attack (issue 11) against the custodian: whoever can submit a crafted,
 * correctly masked ciphertext reads template coefficients back. Here the crafted result is a
 * match against the probe 127·e_k, which leaks t_k; it is submitted as a compromised provider
 * would — with no attempt, a made-up nonce, a stolen attempt twice (and in parallel), another
 * user's passkey, a signature over other frames — and every way is refused and audited. Only a
 * live attempt, once, within the enrollment's budget, gets an answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { challengeFromFrameHashes, frameHashes } from '../../src/faceLogin/captureChallenge.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { MAX_THRESHOLD } from '../../src/template/params.ts';
import { quantize } from '../../src/template/quantize.ts';
import { attemptsFor, TEST_RP } from '../support/liveAttempt.ts';
import { auditTypes, newKek, seedTenant, seedUser, testStores, testKekRing } from '../template/fixtures.ts';
import { randomUnit } from '../template/vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
const cdb = db.forRole(CUSTODIAN_ROLE);
const k1 = newKek('k1');
const custodian = createLocalCustodian({ db: cdb, kv, keks: testKekRing(k1), rp: TEST_RP, decryptLimit: 1000 });

/**
 * A user with a template, and a crafted result over the probe 127·e_5 (it once read t_5 back);
 * the user's passkey (and `devices` more) registered before enrollment, as the custodian requires.
 */
async function victim(devices = 0) {
  const userId = await seedUser(db, 'acme');
  const attempts = await attemptsFor(custodian, 'acme', userId);
  const more = await Promise.all(Array.from({ length: devices }, () => attemptsFor(custodian, 'acme', userId)));
  const publicKey = await custodian.createUserKey('acme', userId);
  const template = await encryptTemplate(publicKey, [quantize(randomUnit(128))]);
  const probe = new Int8Array(128);
  probe[5] = 127;
  // At the highest θ every answer is reject, so no accept resets the attempt budget under test.
  const crafted = await decisionMatch({ template, probe, threshold: MAX_THRESHOLD, blinder: await makeBlinder(publicKey) });
  return { userId, crafted, attempts, devices: more };
}

const refusals = async (userId: string) => {
  const { rows } = await db.asOwner((sql) =>
    sql.query<{ reason: string }>("SELECT data->>'reason' AS reason FROM audit_events WHERE subject = $1 AND type = 'custodian.decrypt_refused' ORDER BY seq", [userId]),
  );
  return rows.map((r) => r.reason);
};

test('a crafted masked result with no attempt, or a made-up nonce, is refused and audited', async () => {
  const v = await victim();
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: undefined as never }), { code: 'custodian.attempt_malformed' });
  // A nonce the custodian never issued, with a genuine signature of the user's passkey over it
  // (a provider replaying what it once saw, or a device it controls).
  const nonce = randomBytes(32).toString('base64url');
  const hashes = frameHashes([randomBytes(50)]);
  const assertion = v.attempts.authenticator.assert(challengeFromFrameHashes(nonce, hashes));
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: { nonce, frameHashes: hashes, assertion } }), {
    code: 'custodian.attempt_replayed',
    status: 409,
  });
  assert.deepEqual(await refusals(v.userId), ['malformed', 'replayed']);
  assert.ok(!(await auditTypes(db, 'acme', v.userId)).includes('custodian.decrypt'), 'nothing was decrypted');
});

test('a stolen live attempt opens one decryption: replayed, or raced in parallel, the others are refused and audited', async () => {
  const v = await victim();
  const stolen = await v.attempts.next();
  assert.equal(await custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: stolen }), 'reject');
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: stolen }), { code: 'custodian.attempt_replayed' });
  const raced = await v.attempts.next();
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: raced })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one of six parallel submissions is answered');
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'custodian.attempt_replayed');
  assert.deepEqual(await refusals(v.userId), ['replayed', 'replayed', 'replayed', 'replayed', 'replayed', 'replayed']);
  assert.equal((await auditTypes(db, 'acme', v.userId)).filter((t) => t === 'custodian.decrypt').length, 2);
});

test('an attempt signed by another user’s passkey, or over other frames, or for another user’s nonce is refused', async () => {
  const v = await victim();
  const mallory = await victim();
  // Mallory's own passkey signs over a nonce issued for the victim.
  const { nonce } = await custodian.issueCaptureNonce('acme', v.userId);
  const hashes = frameHashes([randomBytes(50)]);
  const foreign = { nonce, frameHashes: hashes, assertion: mallory.attempts.authenticator.assert(challengeFromFrameHashes(nonce, hashes)) };
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: foreign }), { code: 'custodian.attempt_unverified', status: 403 });
  // The victim's genuine attempt, presented with other frames' hashes: the signature covers the frames.
  const genuine = await v.attempts.next();
  const swapped = { ...genuine, frameHashes: frameHashes([randomBytes(50), randomBytes(50)]) };
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: swapped }), { code: 'custodian.attempt_unverified' });
  // Mallory's live attempt does not open the victim's key: the nonce is Mallory's.
  const mine = await mallory.attempts.next();
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: mine }), { code: 'custodian.attempt_replayed' });
  assert.deepEqual(await refusals(v.userId), ['unknown_passkey', 'challenge_mismatch', 'replayed']);
});

test('the enrollment’s attempt budget is durable, cannot be overdrawn in parallel, and a new enrollment resets it', async () => {
  const limited = createLocalCustodian({ db: cdb, kv, keks: testKekRing(k1), rp: TEST_RP, decryptLimit: 1000, attemptLimit: 3 });
  // Six passkeys of the user, one attempt each (one authenticator's parallel attempts would trip its counter).
  const v = await victim(6);
  const batch = await Promise.all(v.devices.map((d) => d.next()));
  const results = await Promise.allSettled(batch.map((attempt) => limited.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt })));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  const exhausted = results.filter((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'custodian.attempts_exhausted');
  assert.equal(exhausted.length, 3);
  const { rows } = await cdb.withTenant('acme', (sql) => sql.query<{ attempts: number }>('SELECT attempts FROM custodian_keys WHERE user_id = $1', [v.userId]));
  assert.equal(rows[0].attempts, 3, 'counted in the custodian’s table, not in memory');
  assert.equal((await refusals(v.userId)).filter((r) => r === 'attempts_exhausted').length, 3);
  await limited.createUserKey('acme', v.userId);
  const again = await limited.decideMatch('acme', v.userId, { ciphertext: v.crafted, attempt: await v.attempts.next() }).catch((e: { code: string }) => e.code);
  // The crafted result was made for the old key: refused as such, past the (new) budget.
  assert.equal(again, 'custodian.wrong_key', 'a new key starts a new budget');
});

test('the budget counts failures since the last accept: an accept resets it, rejects alone exhaust it', async () => {
  const limited = createLocalCustodian({ db: cdb, kv, keks: testKekRing(k1), rp: TEST_RP, decryptLimit: 1000, attemptLimit: 2 });
  const userId = await seedUser(db, 'acme');
  const attempts = await attemptsFor(limited, 'acme', userId);
  const publicKey = await limited.createUserKey('acme', userId);
  const template = await encryptTemplate(publicKey, [quantize(randomUnit(128))]);
  const probe = quantize(randomUnit(128));
  // The lowest θ accepts every probe, the highest rejects every one (|score| < MAX_THRESHOLD for unit vectors).
  const result = async (threshold: number) => decisionMatch({ template, probe, threshold, blinder: await makeBlinder(publicKey) });
  const decide = async (threshold: number) => limited.decideMatch('acme', userId, { ciphertext: await result(threshold), attempt: await attempts.next() });
  const attemptsNow = async () =>
    (await cdb.withTenant('acme', (sql) => sql.query<{ attempts: number }>('SELECT attempts FROM custodian_keys WHERE user_id = $1', [userId]))).rows[0].attempts;
  assert.equal(await decide(MAX_THRESHOLD), 'reject');
  assert.equal(await attemptsNow(), 1);
  assert.equal(await decide(-MAX_THRESHOLD), 'accept');
  assert.equal(await attemptsNow(), 0, 'the accept ended the run of failures');
  for (let i = 0; i < 3; i++) assert.equal(await decide(-MAX_THRESHOLD), 'accept', 'accepts never exhaust the budget');
  assert.equal(await decide(MAX_THRESHOLD), 'reject');
  assert.equal(await decide(MAX_THRESHOLD), 'reject');
  await assert.rejects(decide(MAX_THRESHOLD), { code: 'custodian.attempts_exhausted' });
});
