import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, round } from '../src/stats.ts';

test('percentile is the nearest rank, and leaves its input unsorted', () => {
  const values = [5, 1, 4, 2, 3];
  assert.equal(percentile(values, 50), 3);
  assert.equal(percentile(values, 99), 5);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile(values, 20), 1);
  assert.equal(percentile(values, 21), 2);
  assert.deepEqual(values, [5, 1, 4, 2, 3]);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('round keeps the given digits', () => {
  assert.equal(round(1.23456), 1.235);
  assert.equal(round(1.23456, 1), 1.2);
  assert.equal(round(-0.0049, 2), -0);
});
