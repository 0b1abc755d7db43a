import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publicRandomBytes } from '../src/publicRandom.ts';

test('pooled random bytes: the size asked for, never handed out twice across refills, copies the caller may keep', () => {
  // 3,000 × 12 bytes: the 4 KiB pool is refilled several times, and at a boundary a value does not fit the rest.
  const values = Array.from({ length: 3000 }, () => publicRandomBytes(12));
  assert.ok(values.every((v) => v.length === 12));
  assert.equal(new Set(values.map((v) => v.toString('hex'))).size, values.length, 'every value is fresh');
  const seen = new Set(values.flatMap((v) => [...v]));
  assert.equal(seen.size, 256, 'every byte value occurs in 36,000 random bytes');
  const kept = Buffer.from(values[0]);
  for (let i = 0; i < 400; i++) publicRandomBytes(12);
  assert.deepEqual(values[0], kept, 'a value handed out does not change when the pool is refilled');
  assert.equal(publicRandomBytes(5000).length, 5000, 'more than the pool holds');
});
