/**
 * The review's bypass of the attempt budget: a provider compromised after a user's enrollment
 * registers a passkey of its own with the custodian (registerPasskey takes the provider's word),
 * signs "attempts" with it over custodian nonces and submits crafted results that always decide
 * accept, each accept resetting the budget — ~1,000 one-bit queries a day under the rate limit.
 * The custodian refuses a passkey registered after the user's current key was created: refused
 * with custodian.passkey_not_eligible, audited, the budget neither spent nor reset — in process,
 * in parallel, and over HTTP with the provider's own enroll token. A re-enrollment (new key) makes
 * the passkeys registered so far eligible; the old template's key is gone with it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createCustodianHttpServer } from '../../src/custodian/httpServer.ts';
import { rotateKek } from '../../src/custodian/kekRotation.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { createRemoteCustodian } from '../../src/custodian/remoteCustodian.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { MAX_THRESHOLD } from '../../src/template/params.ts';
import { quantize } from '../../src/template/quantize.ts';
import { attemptsFor, TEST_RP } from '../support/liveAttempt.ts';
import { auditTypes, newKek, seedTenant, seedUser, testKekRing, testStores } from '../template/fixtures.ts';
import { randomUnit } from '../template/vectors.ts';

const { db, kv } = await testStores();
await seedTenant(db, 'acme');
const cdb = db.forRole(CUSTODIAN_ROLE);
const k1 = newKek('k1');
const ring = testKekRing(k1);
const custodian = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP, decryptLimit: 1000, attemptLimit: 5 });

/** An enrolled user (their device registered first), with results that always accept or always reject. */
async function enrolled() {
  const userId = await seedUser(db, 'acme');
  const device = await attemptsFor(custodian, 'acme', userId);
  const publicKey = await custodian.createUserKey('acme', userId);
  const template = await encryptTemplate(publicKey, [quantize(randomUnit(128))]);
  const probe = quantize(randomUnit(128));
  // The lowest θ accepts every probe, the highest rejects every one (|score| < MAX_THRESHOLD for unit vectors).
  const result = async (accept: boolean) => decisionMatch({ template, probe, threshold: accept ? -MAX_THRESHOLD : MAX_THRESHOLD, blinder: await makeBlinder(publicKey) });
  return { userId, device, result };
}

const budgetUsed = async (userId: string) =>
  (await cdb.withTenant('acme', (sql) => sql.query<{ attempts: number }>('SELECT attempts FROM custodian_keys WHERE user_id = $1', [userId]))).rows[0].attempts;

const refusals = async (userId: string) => {
  const { rows } = await db.asOwner((sql) =>
    sql.query<{ reason: string }>("SELECT data->>'reason' AS reason FROM audit_events WHERE subject = $1 AND type = 'custodian.decrypt_refused' ORDER BY seq", [userId]),
  );
  return rows.map((r) => r.reason);
};

const decrypts = async (userId: string) => (await auditTypes(db, 'acme', userId)).filter((t) => t === 'custodian.decrypt').length;

test('a passkey the provider registers after enrollment cannot sign attempts: refused, audited, the budget neither spent nor reset', async () => {
  const v = await enrolled();
  // The genuine user fails once: one of the 5 attempts is used.
  assert.equal(await custodian.decideMatch('acme', v.userId, { ciphertext: await v.result(false), attempt: await v.device.next() }), 'reject');
  assert.equal(await budgetUsed(v.userId), 1);
  // The compromised provider's own key pair, registered through the custodian's own API, signs over a custodian nonce.
  const forged = await attemptsFor(custodian, 'acme', v.userId);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: await v.result(true), attempt: await forged.next() }), {
      code: 'custodian.passkey_not_eligible',
      status: 403,
    });
  }
  assert.equal(await budgetUsed(v.userId), 1, 'not spent, and no accept reset it');
  assert.deepEqual(await refusals(v.userId), ['passkey_not_eligible', 'passkey_not_eligible', 'passkey_not_eligible']);
  assert.equal(await decrypts(v.userId), 1, 'only the genuine attempt was decrypted');
  // The user's own device still works, and still counts.
  assert.equal(await custodian.decideMatch('acme', v.userId, { ciphertext: await v.result(false), attempt: await v.device.next() }), 'reject');
  assert.equal(await budgetUsed(v.userId), 2);
});

test('parallel attempts signed by late passkeys are all refused, none decrypted, the budget untouched', async () => {
  const v = await enrolled();
  // One passkey per attempt, so no attempt trips a counter: only eligibility stops them.
  const forged = await Promise.all(Array.from({ length: 8 }, () => attemptsFor(custodian, 'acme', v.userId)));
  const batch = await Promise.all(forged.map((f) => f.next()));
  const ciphertext = await v.result(true);
  const results = await Promise.allSettled(batch.map((attempt) => custodian.decideMatch('acme', v.userId, { ciphertext, attempt })));
  assert.deepEqual(
    results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : r.value)),
    Array(8).fill('custodian.passkey_not_eligible'),
  );
  assert.equal(await budgetUsed(v.userId), 0);
  assert.equal(await decrypts(v.userId), 0);
  assert.equal((await refusals(v.userId)).length, 8);
});

test('a re-enrollment (new key) makes the passkeys registered so far eligible; later ones still are not', async () => {
  const v = await enrolled();
  const phone = await attemptsFor(custodian, 'acme', v.userId);
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: await v.result(true), attempt: await phone.next() }), { code: 'custodian.passkey_not_eligible' });
  const publicKey = await custodian.createUserKey('acme', v.userId);
  const template = await encryptTemplate(publicKey, [quantize(randomUnit(128))]);
  const accepting = async () => decisionMatch({ template, probe: quantize(randomUnit(128)), threshold: -MAX_THRESHOLD, blinder: await makeBlinder(publicKey) });
  assert.equal(await custodian.decideMatch('acme', v.userId, { ciphertext: await accepting(), attempt: await phone.next() }), 'accept');
  assert.equal(await custodian.decideMatch('acme', v.userId, { ciphertext: await accepting(), attempt: await v.device.next() }), 'accept');
  const later = await attemptsFor(custodian, 'acme', v.userId);
  await assert.rejects(custodian.decideMatch('acme', v.userId, { ciphertext: await accepting(), attempt: await later.next() }), { code: 'custodian.passkey_not_eligible' });
});

test('a KEK rewrap does not move the key’s creation: late passkeys stay ineligible', async () => {
  const v = await enrolled();
  const late = await attemptsFor(custodian, 'acme', v.userId);
  assert.ok((await rotateKek(cdb, ring, { epochDays: 30, force: true })).rewrapped >= 1);
  const rotated = createLocalCustodian({ db: cdb, kv, keks: ring, rp: TEST_RP, decryptLimit: 1000 });
  await assert.rejects(rotated.decideMatch('acme', v.userId, { ciphertext: await v.result(true), attempt: await late.next() }), { code: 'custodian.passkey_not_eligible' });
  assert.equal(await rotated.decideMatch('acme', v.userId, { ciphertext: await v.result(true), attempt: await v.device.next() }), 'accept');
});

test('over HTTP: the provider’s enroll token registers a passkey, its attempts are refused with a 403 that keeps its code', async () => {
  const tokens = { attempt: 'attempt-token-of-at-least-32-characters', enroll: 'enroll-token-of-at-least-32-characters', shred: 'shred-token-of-at-least-32-characters!' };
  const server = createCustodianHttpServer(custodian, tokens);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  const remote = createRemoteCustodian({ endpoint: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, token: tokens });
  const v = await enrolled();
  const forged = await attemptsFor(remote, 'acme', v.userId);
  await assert.rejects(remote.decideMatch('acme', v.userId, { ciphertext: await v.result(true), attempt: await forged.next() }), {
    code: 'custodian.passkey_not_eligible',
    status: 403,
  });
  assert.equal(await budgetUsed(v.userId), 0);
  assert.deepEqual(await refusals(v.userId), ['passkey_not_eligible']);
});
