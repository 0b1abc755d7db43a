/**
 * Is a decrypted plaintext a masked match result? In one, every coefficient but the score and
 * the check positions is a uniform residue mod t, so about N/t ≈ 8·10⁻⁶ of them are zero; a template, a probe or an
 * unmasked product is mostly zeros. Refusing those catches a missing mask only: an attacker who
 * adds a mask gets one bit per call (the decision), bounded by the rate limit and the audit log.
 */
import { CHECK_INDICES, POLY_DEGREE, SCORE_INDEX } from '../template/params.ts';

/** Zeros tolerated off the score position; P(≥ 5 | uniform) < 10⁻²⁰. */
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
