import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshKeyValueStore } from '../support/services.ts';

test('key-value store: one-time take, set-if-absent, counters with expiry', async () => {
  const kv = freshKeyValueStore();
  try {
    assert.equal(await kv.setIfAbsent('n', 'v1', 10_000), true);
    assert.equal(await kv.setIfAbsent('n', 'v2', 10_000), false);
    assert.equal(await kv.take('n'), 'v1');
    assert.equal(await kv.take('n'), null, 'a nonce can be taken once');
    assert.equal(await kv.increment('c', 150), 1);
    assert.equal(await kv.increment('c', 150), 2);
    const ttl = await kv.ttl('c');
    assert.ok(ttl !== null && ttl <= 150 && ttl > 0);
    await sleep(250);
    assert.equal(await kv.get('c'), null, 'counter expired');
    assert.equal(await kv.increment('c', 10_000), 1);
  } finally {
    await kv.close();
  }
});

test('key-value store: compare-and-set replaces only the expected value, one writer wins', async () => {
  const kv = freshKeyValueStore();
  try {
    assert.equal(await kv.compareAndSet('s', 'x', 'y', 10_000), false, 'absent is not "x"');
    assert.equal(await kv.compareAndSet('s', null, 'a', 10_000), true);
    assert.equal(await kv.compareAndSet('s', null, 'b', 10_000), false, 'present is not absent');
    assert.equal(await kv.compareAndSet('s', 'a', 'b', Infinity), true);
    assert.equal(await kv.get('s'), 'b');
    assert.equal(await kv.ttl('s'), Infinity, 'kept until replaced');
    const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => kv.compareAndSet('s', 'b', `c${i}`, 150)));
    assert.equal(wins.filter(Boolean).length, 1, 'one concurrent writer wins');
    const ttl = await kv.ttl('s');
    assert.ok(ttl !== null && ttl <= 150 && ttl > 0);
    assert.equal(await kv.compareAndSet('s', await kv.get('s'), null, 0), true, 'null deletes');
    assert.equal(await kv.get('s'), null);
  } finally {
    await kv.close();
  }
});

test('key-value store: several values in one read; set-if-absent unless a blocker exists, one concurrent writer wins', async () => {
  const kv = freshKeyValueStore();
  try {
    await kv.set('a', '1', 10_000);
    await kv.set('b', '2', 10_000);
    assert.deepEqual(await kv.getMany(['a', 'missing', 'b']), ['1', null, '2']);
    assert.deepEqual(await kv.getMany([]), []);
    assert.equal(await kv.setIfAbsentUnless('claim', 'x', 10_000, ['a']), false, 'a blocker exists');
    assert.equal(await kv.get('claim'), null, 'nothing stored when blocked');
    const wins = await Promise.all(Array.from({ length: 10 }, (_, i) => kv.setIfAbsentUnless('claim', `v${i}`, 150, ['missing', 'also-missing'])));
    assert.equal(wins.filter(Boolean).length, 1, 'one concurrent writer wins');
    assert.equal(await kv.setIfAbsentUnless('claim', 'again', 150, []), false, 'present: not replaced');
    const ttl = await kv.ttl('claim');
    assert.ok(ttl !== null && ttl <= 150 && ttl > 0);
  } finally {
    await kv.close();
  }
});
