import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksMasked, MAX_ZERO_COEFFICIENTS } from '../../src/custodian/maskCheck.ts';
import { uniformResidues } from '../../src/template/modular.ts';
import { CHECK_INDICES, POLY_DEGREE, SCORE_INDEX } from '../../src/template/params.ts';

function masked(): Uint32Array {
  const c = uniformResidues(POLY_DEGREE);
  // Zeros from the draw itself would make the counts below off by one.
  for (let i = 0; i < c.length; i++) if (c[i] === 0) c[i] = 1;
  c[SCORE_INDEX] = 0;
  for (const i of CHECK_INDICES) c[i] = 0;
  return c;
}

test('a masked result passes; the score and check positions may be zero', () => {
  assert.equal(looksMasked(masked()), true);
});

test(`up to ${MAX_ZERO_COEFFICIENTS} stray zeros pass, one more is refused`, () => {
  const c = masked();
  for (let i = 0; i < MAX_ZERO_COEFFICIENTS; i++) c[i] = 0;
  assert.equal(looksMasked(c), true);
  c[MAX_ZERO_COEFFICIENTS] = 0;
  assert.equal(looksMasked(c), false);
});

test('a template-like plaintext (few non-zero coefficients, or fewer stored) is refused', () => {
  const sparse = new Uint32Array(POLY_DEGREE);
  for (let i = 384; i < 512; i++) sparse[i] = i;
  assert.equal(looksMasked(sparse), false);
  assert.equal(looksMasked(masked().subarray(0, 1024)), false, 'missing coefficients count as zeros');
});
