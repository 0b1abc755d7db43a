import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBlinderPool } from '../../src/template/blinderPool.ts';
import { testKeys } from './vectors.ts';

const keys = await testKeys();

/** A public-key lookup that answers only when `release` is called (the refill's database read in flight). */
function gated(answer: Uint8Array | undefined) {
  let release = () => {};
  const lookup = () => new Promise<Uint8Array | undefined>((resolve) => (release = () => resolve(answer)));
  return { lookup, release: () => release() };
}

test('a match finding no blinder ready waits for the running refill’s next one instead of making its own', async () => {
  const pool = createBlinderPool({ perTemplate: 1, templates: 4 });
  assert.equal(await pool.take('t1'), undefined, 'none ready and no refill: the caller makes one');
  // A sign-in's start began the refill a moment ago: its database read and encryption are still running.
  void pool.refill('t1', async () => keys.publicKey);
  const blinder = await pool.take('t1');
  assert.ok(blinder instanceof Uint8Array && blinder.length > 0, 'the refill’s blinder, handed to the waiting match');
  await pool.idle();
});

test('a refill that finds its template gone releases the waiting match empty-handed', async () => {
  const pool = createBlinderPool({ perTemplate: 2, templates: 4 });
  const gate = gated(undefined);
  void pool.refill('t2', gate.lookup);
  const taken = pool.take('t2');
  setTimeout(gate.release, 20);
  assert.equal(await taken, undefined);
  assert.equal(pool.count('t2'), 0);
});
