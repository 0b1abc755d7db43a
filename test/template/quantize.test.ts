import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cosineFromScore, quantize, scoreThreshold } from '../../src/template/quantize.ts';
import { maxSquaredNorm, MAX_SCORE, MAX_THRESHOLD } from '../../src/template/params.ts';
import { cosine, dot, normalise, randomUnit, unitVector } from './vectors.ts';

test('quantized unit vectors stay inside the no-wrap norm bound', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 512 }).chain((d) => unitVector(d)), (u) => {
      const q = quantize(u);
      let s = 0;
      for (const x of q) s += x * x;
      assert.ok(s <= maxSquaredNorm(q.length));
    }),
  );
  // The bound params.ts builds the decision mask's no-wrap proof on.
  assert.equal(MAX_SCORE, 19130);
  assert.equal(maxSquaredNorm(128), 17597);
});

test('the worst adversarial inner product of quantized vectors cannot wrap mod t', () => {
  // All mass on one axis gives the largest components; equal spread gives the largest rounding gain.
  for (const d of [1, 128, 512]) {
    const spread = quantize(new Float32Array(d).fill(1));
    const axis = quantize(Float32Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0)));
    for (const [a, b] of [[spread, spread], [axis, axis], [spread, axis]]) assert.ok(Math.abs(dot(a, b)) <= MAX_SCORE);
  }
});

test('quantization error of the cosine is small for random unit vectors', () => {
  const errors: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const a = randomUnit(128);
    const b = randomUnit(128);
    // Every other pair is similar (cosine ≈ 0.96), to cover the range a threshold sits in.
    const m = i % 2 === 0 ? b : normalise(Float32Array.from(a, (x, k) => x + 0.3 * b[k]));
    errors.push(Math.abs(cosineFromScore(dot(quantize(a), quantize(m))) - cosine(a, m)));
  }
  const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
  assert.ok(mean < 0.01, `mean error ${mean}`);
  assert.ok(Math.max(...errors) < 0.02, `max error ${Math.max(...errors)}`);
});

test('quantize rejects unusable embeddings with typed errors', () => {
  assert.throws(() => quantize(new Float32Array(0)), { code: 'template.bad_dimension' });
  assert.throws(() => quantize(new Float32Array(513).fill(1)), { code: 'template.bad_dimension' });
  assert.throws(() => quantize(new Float32Array(128)), { code: 'template.bad_embedding' });
  assert.throws(() => quantize(Float32Array.of(1, Number.NaN)), { code: 'template.bad_embedding' });
  assert.deepEqual([...quantize(Float32Array.of(3, 4))], [76, 102], 're-normalised before rounding');
});

test('a cosine threshold becomes the integer θ that decides exactly as the cosine did', () => {
  fc.assert(
    fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -MAX_THRESHOLD, max: MAX_THRESHOLD }), (cosine, score) => {
      const theta = scoreThreshold(cosine);
      assert.ok(Math.abs(theta) <= MAX_THRESHOLD);
      assert.equal(score >= theta, cosineFromScore(score) >= cosine);
    }),
    { numRuns: 2000 },
  );
  assert.equal(scoreThreshold(0.33), 5323);
  assert.equal(scoreThreshold(1), MAX_THRESHOLD);
  for (const bad of [Number.NaN, 1.01, -1.01, Infinity]) assert.throws(() => scoreThreshold(bad), { code: 'template.bad_threshold' });
});
