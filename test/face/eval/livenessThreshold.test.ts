import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { chooseLivenessThreshold, rateUpperBound } from '../../../src/face/eval/livenessThreshold.ts';
import { livenessThreshold } from '../../../src/face/thresholds.ts';

/** n bona fide scores spread evenly over (0, 1): the k-th lowest is (k + 1) / (n + 1). */
const even = (n: number) => Array.from({ length: n }, (_, k) => (k + 1) / (n + 1));
const below = (scores: number[], t: number) => scores.filter((s) => s < t).length;

test('one-sided upper bound: exact for zero errors, (1 − 0.05^(1/n))', () => {
  assert.ok(Math.abs(rateUpperBound(0, 100) - (1 - 0.05 ** (1 / 100))) < 1e-6);
  assert.ok(Math.abs(rateUpperBound(0, 154) - 0.0193) < 1e-4);
  // 1/154 is already above 3 % at 95 %: a single rejection is not enough evidence
  assert.ok(rateUpperBound(1, 154) > 0.03 && rateUpperBound(1, 154) < 0.032);
  assert.equal(rateUpperBound(5, 5), 1);
});

test('≥ 30 rejections at the target: the plain quantile, rounded down', () => {
  const live = even(2000).reverse(); // order does not matter
  const c = chooseLivenessThreshold(live, 0.03);
  assert.equal(c.kind, 'quantile');
  assert.equal(c.eventsAtTarget, 60);
  assert.equal(c.allowedRejections, 60);
  assert.equal(c.threshold, 0.03); // 61st lowest = 61/2001 = 0.03048 → 0.03
  assert.equal(c.rejections, below(live, 0.03));
  assert.ok(c.rejections <= 60);
  assert.ok(c.rule.includes('60 rejections allowed'));
});

test('fewer than 30 rejections at the target: the highest threshold whose 95 % upper bound on BPCER is ≤ target', () => {
  const live = even(200);
  const c = chooseLivenessThreshold(live, 0.03);
  assert.equal(c.kind, 'upper-bound');
  assert.equal(c.eventsAtTarget, 6);
  // 0/200 → 1.5 %, 1/200 → 2.3 %, 2/200 → 3.1 %: one rejection allowed
  assert.equal(c.allowedRejections, 1);
  assert.equal(c.threshold, Math.floor((2 / 201) * 100) / 100);
  assert.ok(c.bpcerUpperBound <= 0.03);
  assert.ok(c.demonstrable);
  assert.ok(c.rule.includes('only 6 bona fide rejections') && c.rule.includes('upper bound'));
});

test('too few bona fide captures to demonstrate the target: every one must pass, and it says so', () => {
  const c = chooseLivenessThreshold([0.9, 0.42, 0.8, ...even(40)], 0.03);
  assert.equal(c.demonstrable, false);
  assert.equal(c.rejections, 0);
  assert.equal(c.threshold, Math.floor((1 / 41) * 100) / 100);
  assert.ok(c.rule.includes('not demonstrated'));
});

test('the minEvents switch: the same scores under the quantile rule when 6 events are declared enough', () => {
  const c = chooseLivenessThreshold(even(200), 0.03, { minEvents: 6 });
  assert.equal(c.kind, 'quantile');
  assert.equal(c.allowedRejections, 6);
});

test('property: the chosen threshold never rejects more than allowed, and the bound holds when demonstrable', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 400 }), fc.constantFrom(0.01, 0.03, 0.05), (live, target) => {
      const c = chooseLivenessThreshold(live, target);
      assert.equal(c.rejections, below(live, c.threshold));
      assert.ok(c.rejections <= c.allowedRejections);
      if (c.demonstrable) assert.ok(c.bpcerUpperBound <= target + 1e-12 || c.kind === 'quantile');
      // the threshold is on the 0.01 grid
      assert.ok(Math.abs(c.threshold * 100 - Math.round(c.threshold * 100)) < 1e-6);
    }),
    { numRuns: 200 },
  );
});

test('no bona fide scores is a programming error, not a threshold', () => {
  assert.throws(() => chooseLivenessThreshold([], 0.03), RangeError);
});

test('thresholds.ts holds the threshold eval/LIVENESS.md reports (re-run the command and update both together)', async () => {
  const md = readFileSync(new URL('../../../eval/LIVENESS.md', import.meta.url), 'utf8');
  const m = /\*\*livenessThreshold = ([0-9.]+)\*\*/.exec(md);
  assert.ok(m, 'eval/LIVENESS.md states the threshold');
  assert.equal(livenessThreshold, Number(m[1]));
});
