import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkQuantized, maskCoefficients, probeCoefficients, scoreIndex, templateCoefficients } from '../../src/template/encoding.ts';
import { centred, mod, mulMod, randomIntIn, uniformResidues } from '../../src/template/modular.ts';
import { CHECK_INDICES, MAX_MASK_FACTOR, PLAIN_MODULUS, POLY_DEGREE, SCORE_INDEX } from '../../src/template/params.ts';
import { quantize } from '../../src/template/quantize.ts';
import { dot, unitVector } from './vectors.ts';

/** Product in Z_t[x]/(x^N + 1), computed directly. */
function negacyclicProduct(a: Uint32Array, b: Uint32Array): number[] {
  const out = new Array<number>(POLY_DEGREE).fill(0);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    for (let j = 0; j < b.length; j++) {
      if (b[j] === 0) continue;
      const k = i + j;
      const term = mulMod(a[i], b[j]);
      if (k < POLY_DEGREE) out[k] = mod(out[k] + term);
      else out[k - POLY_DEGREE] = mod(out[k - POLY_DEGREE] - term);
    }
  }
  return out;
}

test('coefficient B−1 of a·p·T is a·⟨p,t⟩, exactly (no wrap), for every mask factor a', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 512 }).chain((d) => fc.tuple(unitVector(d), unitVector(d))), fc.integer({ min: 1, max: MAX_MASK_FACTOR }), ([u, v], a) => {
      const p = quantize(u);
      const t = quantize(v);
      const product = negacyclicProduct(probeCoefficients(p, a), templateCoefficients([t]));
      assert.equal(centred(product[SCORE_INDEX]), a * dot(p, t));
    }),
    { numRuns: 40 },
  );
});

test('packed templates each get their own score coefficient, wrap included', () => {
  fc.assert(
    fc.property(fc.array(unitVector(128), { minLength: POLY_DEGREE / 128, maxLength: POLY_DEGREE / 128 }), unitVector(128), (templates, probe) => {
      const qs = templates.map(quantize);
      const p = quantize(probe);
      const product = negacyclicProduct(probeCoefficients(p, 1), templateCoefficients(qs, 128));
      qs.forEach((q, j) => assert.equal(centred(product[scoreIndex(j, 128)]), dot(p, q)));
    }),
    { numRuns: 5 },
  );
  assert.throws(() => templateCoefficients(new Array(POLY_DEGREE / 128 + 1).fill(new Int8Array(128)), 128), { code: 'template.too_many' });
});

test('the mask is zero exactly at the kept positions', () => {
  const kept = [SCORE_INDEX, ...CHECK_INDICES];
  const mask = maskCoefficients(kept);
  assert.equal(mask.length, POLY_DEGREE);
  for (const i of kept) assert.equal(mask[i], 0);
  assert.ok(mask.filter((x) => x === 0).length < kept.length + 5);
});

test('a 1:1 product never reaches the check coefficients', () => {
  // Support of p·T is [B−d, B+d−2] ⊂ [0, 2B−2], far below the check positions.
  const p = probeCoefficients(new Int8Array(512).fill(5), 1);
  const product = negacyclicProduct(p, templateCoefficients([new Int8Array(512).fill(5)]));
  for (const i of CHECK_INDICES) assert.equal(product[i], 0);
  assert.ok(Math.min(...CHECK_INDICES) > 2 * 512 - 2);
});

test('vectors outside the quantized-unit bound are refused', () => {
  assert.throws(() => checkQuantized(new Int8Array(128).fill(127)), { code: 'template.out_of_range' });
  assert.throws(() => probeCoefficients(new Int8Array(600), 1), { code: 'template.bad_dimension' });
});

test('modular helpers: exact products beyond 2^53, centred residues, uniform draws in range', () => {
  const T = BigInt(PLAIN_MODULUS);
  const big = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 });
  fc.assert(fc.property(big, big, (a, b) => assert.equal(BigInt(mulMod(a, b)), (((BigInt(a) * BigInt(b)) % T) + T) % T)));
  assert.equal(mulMod(PLAIN_MODULUS - 1, PLAIN_MODULUS - 1), 1);
  assert.equal(centred(PLAIN_MODULUS - 1), -1);
  assert.equal(centred((PLAIN_MODULUS - 1) / 2), (PLAIN_MODULUS - 1) / 2);
  const draws = uniformResidues(100_000);
  assert.ok(draws.every((x) => x < PLAIN_MODULUS));
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const x = randomIntIn(3, 7);
    assert.ok(x >= 3 && x <= 7);
    seen.add(x);
  }
  assert.equal(seen.size, 5);
});
