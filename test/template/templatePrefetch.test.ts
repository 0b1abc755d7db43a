import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTemplatePrefetch, TTL_MS } from '../../src/template/templatePrefetch.ts';

const template = (version: string) => ({ model: 'm', dim: 128, ciphertext: new Uint8Array(4), version });

test('a template read ahead is taken once, by its key only', () => {
  const prefetch = createTemplatePrefetch(4);
  prefetch.put('acme\nalice\n', template('v1'));
  assert.ok(prefetch.holds('acme\nalice\n'));
  assert.equal(prefetch.take('acme\nbob\n'), undefined);
  assert.equal(prefetch.take('acme\nalice\n')?.version, 'v1');
  assert.equal(prefetch.take('acme\nalice\n'), undefined, 'a second match reads for itself');
  assert.ok(!prefetch.holds('acme\nalice\n'));
});

test('at most `limit` wait, the oldest dropped first; forget drops a user’s; none is used past the TTL', () => {
  let now = 0;
  const prefetch = createTemplatePrefetch(2, () => now);
  prefetch.put('a', template('1'));
  prefetch.put('b', template('2'));
  prefetch.put('c', template('3'));
  assert.equal(prefetch.take('a'), undefined);
  prefetch.forget('b');
  assert.equal(prefetch.take('b'), undefined);
  now = TTL_MS;
  assert.ok(!prefetch.holds('c'));
  assert.equal(prefetch.take('c'), undefined, 'expired');
});
