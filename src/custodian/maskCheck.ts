/**
 * Is a decrypted plaintext a masked match result? In one, every coefficient but the score is a
 * uniform residue mod t, so about (N−1)/t ≈ 0.06 of them are zero; a template, a probe or an
 * unmasked product is mostly zeros. Refusing those keeps the custodian from being used to read
 * a template coefficient by coefficient (an attacker who also adds a mask is bounded by the
 * per-user rate limit and shows in the audit log).
 */
import { POLY_DEGREE, SCORE_INDEX } from '../template/params.ts';

/** Zeros tolerated off the score position; P(≥ 5 | uniform) ≈ 8·10⁻⁹. */
export const MAX_ZERO_COEFFICIENTS = 4;

/** `coefficients` as read from the decrypted plaintext (trailing zeros omitted, as SEAL stores them). */
export function looksMasked(coefficients: Uint32Array): boolean {
  let zeros = POLY_DEGREE - coefficients.length;
  for (let i = 0; i < coefficients.length && zeros <= MAX_ZERO_COEFFICIENTS; i++) {
    if (i !== SCORE_INDEX && coefficients[i] === 0) zeros++;
  }
  return zeros <= MAX_ZERO_COEFFICIENTS;
}
