/**
 * Is a decrypted plaintext a masked match result? In one, every coefficient but the score and
 * the check positions is a uniform residue mod t, so about (N−1)/t ≈ 0.06 of them are zero; a template, a probe or an
 * unmasked product is mostly zeros. Refusing those keeps the custodian from being used to read
 * a template coefficient by coefficient (an attacker who also adds a mask is bounded by the
 * per-user rate limit and shows in the audit log).
 */
import { CHECK_INDICES, POLY_DEGREE, SCORE_INDEX } from '../template/params.ts';

/** Zeros tolerated off the score position; P(≥ 5 | uniform) ≈ 8·10⁻⁹. */
export const MAX_ZERO_COEFFICIENTS = 4;

const KEPT = new Set([SCORE_INDEX, ...CHECK_INDICES]);

/** `coefficients` as read from the decrypted plaintext (SEAL may store fewer than N). */
export function looksMasked(coefficients: Uint32Array): boolean {
  let zeros = 0;
  for (let i = 0; i < POLY_DEGREE && zeros <= MAX_ZERO_COEFFICIENTS; i++) {
    if (!KEPT.has(i) && (i >= coefficients.length || coefficients[i] === 0)) zeros++;
  }
  return zeros <= MAX_ZERO_COEFFICIENTS;
}
