/**
 * Coefficient encoding of quantized vectors, so that one polynomial product yields the inner
 * product: probe p(x) = Σ pᵢ·xⁱ and template T(x) = Σ tᵢ·x^(B−1−i) (B = block), whence
 * coefficient B−1 of p·T is Σ pᵢ·tᵢ. Several templates may share one polynomial, template j at
 * offset j·B: its score lands at j·B + B−1 and no other template reaches that coefficient
 * (for template j' the product term pₖ·t_{j',i'} lands at j'·B + B−1 − i' + k, equal only if
 * j' = j and k = i'). With k·B ≤ N the terms past x^N wrap onto coefficients < d−1 ≤ B−1.
 */
import { InputError } from '../errors.ts';
import { mod, mulMod, uniformResidues } from './modular.ts';
import { BLOCK, maxSquaredNorm, POLY_DEGREE } from './params.ts';

/** Rejects a vector outside the no-wrap bound of params.ts (not a quantized unit vector). */
export function checkQuantized(q: Int8Array, block: number = BLOCK): void {
  if (q.length < 1 || q.length > block) throw new InputError('template.bad_dimension', `vector dimension must be 1..${block}, got ${q.length}`);
  let squared = 0;
  for (let i = 0; i < q.length; i++) squared += q[i] * q[i];
  if (squared > maxSquaredNorm(q.length)) throw new InputError('template.out_of_range', 'vector is not a quantized unit vector');
}

/** Coefficients of a·p(x) mod t: the decision mask's factor a is folded into the probe. */
export function probeCoefficients(q: Int8Array, a: number): Uint32Array {
  checkQuantized(q);
  const out = new Uint32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = mulMod(q[i], a);
  return out;
}

/** Coefficients of T(x) for one template, or several packed at offsets j·block. */
export function templateCoefficients(templates: Int8Array[], block: number = BLOCK): Uint32Array {
  if (templates.length < 1 || templates.length * block > POLY_DEGREE) {
    throw new InputError('template.too_many', `at most ${POLY_DEGREE / block} templates fit in one ciphertext`);
  }
  const out = new Uint32Array(templates.length * block);
  templates.forEach((q, j) => {
    checkQuantized(q, block);
    for (let i = 0; i < q.length; i++) out[j * block + block - 1 - i] = mod(q[i]);
  });
  return out;
}

/** Where template j's score lands. */
export function scoreIndex(j: number, block: number = BLOCK): number {
  return j * block + block - 1;
}

/**
 * The additive mask: uniform residues at every coefficient of Z_t[x]/(x^N + 1) except `kept`
 * (the score positions, and the check positions for a 1:1 match), which stay 0.
 */
export function maskCoefficients(kept: readonly number[]): Uint32Array {
  const out = uniformResidues(POLY_DEGREE);
  for (const i of kept) out[i] = 0;
  return out;
}
