import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { centred } from '../../src/template/modular.ts';
import { CHECK_INDICES, MAX_MASK_FACTOR, MAX_SCORE, MAX_THRESHOLD, PLAIN_MODULUS, POLY_DEGREE, SCORE_INDEX } from '../../src/template/params.ts';
import { quantize, scoreThreshold } from '../../src/template/quantize.ts';
import { cosine, dot, gaussianUnitVector, normalise, randomUnit, testKeys, unitVector } from './vectors.ts';

const keys = await testKeys();
after(() => keys.close());

async function result(template: Uint8Array, probe: Int8Array, threshold: number): Promise<Uint8Array> {
  return decisionMatch({ template, probe, threshold, blinder: await makeBlinder(keys.publicKey) });
}

test('the decrypted score coefficient is ≥ 0 exactly when score ≥ θ, and never wraps (adversarial vectors, θ at and around the score)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 512 }).chain((d) => fc.tuple(unitVector(d), unitVector(d), fc.double({ min: 0, max: 1, noNaN: true }))),
      fc.integer({ min: -2, max: 2 }),
      async ([u, w, lambda], delta) => {
        const v = normalise(Float32Array.from(u, (x, i) => lambda * x + (1 - lambda) * w[i]));
        const t = quantize(u);
        const p = quantize(v);
        const score = dot(p, t);
        const theta = Math.max(-MAX_THRESHOLD, Math.min(MAX_THRESHOLD, score + delta));
        const value = centred(keys.decrypt(await result(await encryptTemplate(keys.publicKey, [t]), p, theta))[SCORE_INDEX]);
        assert.equal(value >= 0, score >= theta);
        // |v| < a·(|score − θ| + 1) ≤ 2^13·(|score − θ| + 1): nothing close to t/2.
        assert.ok(Math.abs(value) < MAX_MASK_FACTOR * (Math.abs(score - theta) + 1));
      },
    ),
    { numRuns: 12 },
  );
});

test('no-wrap bound at the extremes: worst adversarial inner product, farthest threshold, largest a and b', () => {
  const half = (PLAIN_MODULUS - 1) / 2;
  for (const score of [-MAX_SCORE, MAX_SCORE]) {
    for (const theta of [-MAX_THRESHOLD, MAX_THRESHOLD]) {
      for (const a of [1, MAX_MASK_FACTOR]) {
        for (const b of [0, a - 1]) assert.ok(Math.abs(a * (score - theta) + b) < half, `a=${a} b=${b} score=${score} θ=${theta}`);
      }
    }
  }
  // And the largest quantized inner product really is within MAX_SCORE (all mass on one axis, or spread evenly).
  for (const d of [1, 128, 512]) {
    const spread = quantize(new Float32Array(d).fill(1));
    assert.ok(dot(spread, spread) <= MAX_SCORE);
  }
});

test('noise budget left after match, blinding (re-randomization + 2^110 flooding) and modulus switching (bits)', async (t) => {
  const template = await encryptTemplate(keys.publicKey, [quantize(randomUnit(512))]);
  const fresh = keys.noiseBudget(template);
  const budgets: number[] = [];
  for (let i = 0; i < 3; i++) budgets.push(keys.noiseBudget(await result(template, quantize(randomUnit(512)), 0)));
  t.diagnostic(`noise budget: fresh template ${fresh}, results ${budgets.join(', ')}`);
  // params.ts (2): ~33 bits predicted; 20 leaves room for any probe.
  for (const b of budgets) assert.ok(b >= 20, `${b} bits left`);
});

test('decisions at a threshold equal the plaintext cosine decisions outside the quantization error', async () => {
  const threshold = 0.45;
  // Quantization error of the cosine over 100,000 random pairs (d = 128): max 0.0155.
  const margin = 0.02;
  await fc.assert(
    fc.asyncProperty(gaussianUnitVector(128), gaussianUnitVector(128), fc.double({ min: 0.2, max: 0.8, noNaN: true }), async (u, w, lambda) => {
      const v = normalise(Float32Array.from(u, (x, i) => lambda * x + (1 - lambda) * w[i]));
      const exact = cosine(u, v);
      if (Math.abs(exact - threshold) <= margin) return;
      const template = await encryptTemplate(keys.publicKey, [quantize(u)]);
      const value = centred(keys.decrypt(await result(template, quantize(v), scoreThreshold(threshold)))[SCORE_INDEX]);
      assert.equal(value >= 0, exact >= threshold);
    }),
    { numRuns: 15 },
  );
});

test('a result reveals only the masked margin: every other coefficient is uniform mod t, the margin is blinded afresh', async (t) => {
  const template = await encryptTemplate(keys.publicKey, [quantize(randomUnit(128))]);
  const probe = quantize(randomUnit(128));
  const runs = 6;
  const bins = 16;
  const counts = new Array<number>(bins).fill(0);
  const margins = new Set<number>();
  for (let run = 0; run < runs; run++) {
    const c = keys.decrypt(await result(template, probe, 0));
    for (const i of CHECK_INDICES) assert.equal(c[i], 0, 'check coefficients decrypt to 0 under the right key');
    c.forEach((x, i) => {
      if (i !== SCORE_INDEX && !CHECK_INDICES.includes(i)) counts[Math.floor((x * bins) / PLAIN_MODULUS)]++;
    });
    margins.add(c[SCORE_INDEX]);
  }
  const samples = runs * (POLY_DEGREE - 1 - CHECK_INDICES.length);
  let chi2 = 0;
  for (let k = 0; k < bins; k++) {
    const width = Math.ceil(((k + 1) * PLAIN_MODULUS) / bins) - Math.ceil((k * PLAIN_MODULUS) / bins);
    const expected = (samples * width) / PLAIN_MODULUS;
    chi2 += (counts[k] - expected) ** 2 / expected;
  }
  t.diagnostic(`chi-square ${chi2.toFixed(1)} (15 dof)`);
  assert.ok(chi2 < 37.7, `chi-square ${chi2} ≥ 37.7 (p = 0.001)`);
  assert.ok(margins.size >= runs - 1, 'fresh a and b each time');
});

test('a ciphertext that is not a stored template, or a bad threshold, is a typed error', async () => {
  const probe = quantize(randomUnit(8));
  await assert.rejects(result(new Uint8Array(64), probe, 0), { code: 'template.bad_ciphertext' });
  const template = await encryptTemplate(keys.publicKey, [probe]);
  const r = await result(template, probe, 0);
  await assert.rejects(result(r, probe, 0), { code: 'template.bad_ciphertext' });
  await assert.rejects(result(template, probe, MAX_THRESHOLD + 1), { code: 'template.bad_threshold' });
  await assert.rejects(result(template, probe, 0.5), { code: 'template.bad_threshold' });
});
