import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encryptTemplate, maskedMatch, type ProbeMode } from '../../src/template/matcher.ts';
import { CHECK_INDICES, PLAIN_MODULUS, SCORE_INDEX } from '../../src/template/params.ts';
import { cosineFromScore, quantize } from '../../src/template/quantize.ts';
import { cosine, dot, gaussianUnitVector, normalise, randomUnit, testKeys, unitVector } from './vectors.ts';

const keys = await testKeys();
after(() => keys.close());

for (const mode of ['plain', 'encrypted'] as ProbeMode[]) {
  test(`${mode} probe: the decrypted masked score is exactly the integer inner product`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 512 }).chain((d) => fc.tuple(unitVector(d), unitVector(d), fc.double({ min: 0, max: 1, noNaN: true }))), async ([u, w, lambda]) => {
        // Mixing covers every similarity from unrelated to identical.
        const v = normalise(Float32Array.from(u, (x, i) => lambda * x + (1 - lambda) * w[i]));
        const t = quantize(u);
        const p = quantize(v);
        const template = await encryptTemplate(keys.publicKey, [t]);
        const masked = await maskedMatch({ template, publicKey: keys.publicKey, probe: p, mode });
        const coefficients = keys.decrypt(masked.ciphertext);
        assert.equal(masked.unmask(coefficients[SCORE_INDEX]), dot(p, t));
      }),
      { numRuns: mode === 'plain' ? 15 : 6 },
    );
  });
}

test('noise budget left after a masked match (bits)', async (t) => {
  const template = await encryptTemplate(keys.publicKey, [quantize(randomUnit(128))]);
  const probe = quantize(randomUnit(128));
  const fresh = keys.noiseBudget(template);
  const plain = keys.noiseBudget((await maskedMatch({ template, publicKey: keys.publicKey, probe, mode: 'plain' })).ciphertext);
  const encrypted = keys.noiseBudget((await maskedMatch({ template, publicKey: keys.publicKey, probe, mode: 'encrypted' })).ciphertext);
  t.diagnostic(`noise budget: fresh ${fresh}, ct×pt ${plain}, ct×ct ${encrypted}`);
  assert.ok(plain >= 20, `ct×pt leaves ${plain} bits`);
  assert.ok(encrypted >= 10, `ct×ct leaves ${encrypted} bits`);
});

test('decisions at a threshold equal the plaintext cosine decisions outside the quantization error', async () => {
  const threshold = 0.45;
  // Quantization error of the cosine over 100,000 random pairs (d = 128): mean 0.0026, p99 0.0083,
  // max 0.0155 — the margin sits above the worst seen.
  const margin = 0.02;
  await fc.assert(
    fc.asyncProperty(gaussianUnitVector(128), gaussianUnitVector(128), fc.double({ min: 0.2, max: 0.8, noNaN: true }), async (u, w, lambda) => {
      const v = normalise(Float32Array.from(u, (x, i) => lambda * x + (1 - lambda) * w[i]));
      const template = await encryptTemplate(keys.publicKey, [quantize(u)]);
      const masked = await maskedMatch({ template, publicKey: keys.publicKey, probe: quantize(v), mode: 'plain' });
      const score = cosineFromScore(masked.unmask(keys.decrypt(masked.ciphertext)[SCORE_INDEX]));
      const exact = cosine(u, v);
      assert.ok(Math.abs(score - exact) < margin, `quantization error ${Math.abs(score - exact)}`);
      if (Math.abs(exact - threshold) > margin) assert.equal(score >= threshold, exact >= threshold);
    }),
    { numRuns: 30 },
  );
});

test('a masked result reveals only r·score: every other coefficient is uniform mod t', async (t) => {
  const template = await encryptTemplate(keys.publicKey, [quantize(randomUnit(128))]);
  const probe = quantize(randomUnit(128));
  const runs = 30;
  const bins = 16;
  const counts = new Array<number>(bins).fill(0);
  const neighbours = new Set<number>();
  const scores = new Set<number>();
  for (let run = 0; run < runs; run++) {
    const c = keys.decrypt((await maskedMatch({ template, publicKey: keys.publicKey, probe, mode: 'plain' })).ciphertext);
    for (const i of CHECK_INDICES) assert.equal(c[i], 0, 'check coefficients decrypt to 0 under the right key');
    c.forEach((x, i) => {
      if (i !== SCORE_INDEX && !CHECK_INDICES.includes(i)) counts[Math.floor((x * bins) / PLAIN_MODULUS)]++;
    });
    // Without the mask these would be the same partial sums every run.
    neighbours.add(c[SCORE_INDEX - 1]);
    scores.add(c[SCORE_INDEX]);
  }
  const samples = runs * (4095 - CHECK_INDICES.length);
  let chi2 = 0;
  for (let k = 0; k < bins; k++) {
    // Exact bin probabilities: t is not a multiple of the bin count.
    const width = Math.ceil(((k + 1) * PLAIN_MODULUS) / bins) - Math.ceil((k * PLAIN_MODULUS) / bins);
    const expected = (samples * width) / PLAIN_MODULUS;
    chi2 += (counts[k] - expected) ** 2 / expected;
  }
  t.diagnostic(`chi-square ${chi2.toFixed(1)} (15 dof)`);
  assert.ok(chi2 < 37.7, `chi-square ${chi2} ≥ 37.7 (p = 0.001)`);
  assert.ok(neighbours.size >= runs - 2, 'partial sums next to the score are masked afresh each time');
  assert.ok(scores.size >= runs - 2, 'the score itself is blinded by a fresh r each time');
});

test('a ciphertext that is not a stored template is a typed error', async () => {
  const probe = quantize(randomUnit(8));
  await assert.rejects(maskedMatch({ template: new Uint8Array(64), publicKey: keys.publicKey, probe, mode: 'plain' }), { code: 'template.bad_ciphertext' });
  const template = await encryptTemplate(keys.publicKey, [probe]);
  const result = (await maskedMatch({ template, publicKey: keys.publicKey, probe, mode: 'encrypted' })).ciphertext;
  for (const mode of ['plain', 'encrypted'] as const) {
    await assert.rejects(maskedMatch({ template: result, publicKey: keys.publicKey, probe, mode }), { code: 'template.bad_ciphertext' });
  }
});
