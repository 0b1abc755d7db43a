import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyThread } from '../../src/custodian/keyThread.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { quantize } from '../../src/template/quantize.ts';
import { dot, randomUnit } from '../template/vectors.ts';

/** A key pair from the thread, and results at θ = score (accept) and θ = score + 1 (reject). */
async function keyAndResults(thread: ReturnType<typeof createKeyThread>) {
  const { secret, publicKey } = await thread.createKey();
  const t = quantize(randomUnit(128));
  const p = quantize(randomUnit(128));
  const template = await encryptTemplate(publicKey, [t]);
  const result = async (accept: boolean) => decisionMatch({ template, probe: p, threshold: dot(p, t) + (accept ? 0 : 1), blinder: await makeBlinder(publicKey) });
  return { secret, accept: await result(true), reject: await result(false) };
}

/** Waits until a successor (if one is starting) took over and its predecessor exited. */
async function handedOver(thread: ReturnType<typeof createKeyThread>) {
  for (let i = 0; i < 500 && thread.counts().alive > 1; i++) await sleep(20);
  assert.equal(thread.counts().alive, 1);
}

test('decisions keep working across recycled workers, each worker retired after its quota of jobs', async () => {
  const thread = createKeyThread({ recycleAfterJobs: 3 });
  try {
    const { secret, accept, reject } = await keyAndResults(thread);
    await handedOver(thread);
    assert.equal(thread.counts().started, 1);
    const decisions = [];
    for (let i = 0; i < 7; i++) {
      const copy = secret.slice();
      const answer = await thread.decide(copy, i % 2 ? reject : accept);
      decisions.push(answer.outcome === 'decision' && answer.decision);
      assert.ok(copy.every((x) => x === 0), 'the caller’s copy of the key is wiped');
      await handedOver(thread);
    }
    assert.deepEqual(decisions, ['accept', 'reject', 'accept', 'reject', 'accept', 'reject', 'accept']);
    // 1 key + 7 decisions = 8 jobs at 3 per worker: workers 1 and 2 served 3 each and exited, the 3rd serves on.
    assert.deepEqual(thread.counts(), { started: 3, alive: 1 });
  } finally {
    await thread.close();
  }
});

test('an idle worker is replaced after its time, and the next decision is answered by the new one', async () => {
  const thread = createKeyThread({ recycleAfterMs: 1500 });
  try {
    await thread.ready();
    const { secret, accept } = await keyAndResults(thread);
    assert.equal(thread.counts().started, 1);
    await sleep(1600);
    assert.equal(thread.counts().started, 2, 'a successor started without any job asking for it');
    // The old worker answers until the new one is ready; then the new one does.
    assert.deepEqual(await thread.decide(secret.slice(), accept), { outcome: 'decision', decision: 'accept' });
    await handedOver(thread);
    assert.deepEqual(await thread.decide(secret, accept), { outcome: 'decision', decision: 'accept' });
  } finally {
    await thread.close();
  }
});

test('errors from the worker keep their codes (a bad ciphertext is the caller’s, an unknown key form a server error)', async () => {
  const thread = createKeyThread();
  try {
    const { secret } = await thread.createKey();
    await assert.rejects(thread.decide(secret.slice(), new Uint8Array(10)), { name: 'InputError', code: 'template.bad_ciphertext' });
    const wrongForm = secret.slice();
    wrongForm[0] = 0x07;
    await assert.rejects(thread.decide(wrongForm, new Uint8Array(10)), { code: 'custodian.bad_secret_form', status: 500 });
  } finally {
    await thread.close();
  }
});
