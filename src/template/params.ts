/**
 * BFV parameters for template matching and the bound that makes them correct.
 *
 * N = 4096 with SEAL's 128-bit default coefficient modulus (BFVDefault(4096): 109 bits) and
 * plaintext modulus t = 65537 (prime), as DESIGN.md §5 fixes.
 *
 * Layout: a vector of dimension d ≤ BLOCK is padded to BLOCK = 512 coefficients, so the score
 * sits at one fixed coefficient, SCORE_INDEX = BLOCK − 1, whatever the model (the custodian
 * needs no per-user dimension). p·T has degree ≤ 2·BLOCK − 2 < N: the negacyclic wrap of
 * Z_t[x]/(x^N + 1) never touches it.
 *
 * Why the inner product cannot wrap mod t: the quantizer rounds 127·u for a unit vector u, so
 * |qᵢ| ≤ 127·|uᵢ| + ½ and, by the triangle inequality, ‖q‖ ≤ 127 + √d/2. By Cauchy–Schwarz
 * |⟨p,q⟩| ≤ ‖p‖·‖q‖ ≤ (127 + √d/2)²: 17,597 for d = 128, 19,130 for d = 512 — below
 * (t−1)/2 = 32,768, so the centred residue mod t is the exact integer. The coarser bound d·127²
 * (2,064,512 for d = 128) would wrap, so every encoded vector is checked against
 * `maxSquaredNorm` (encoding.ts): the bound is enforced, not assumed. A larger t (≈ 2²², enough
 * for d·127²) leaves ~9 bits of noise budget after a ct×ct product instead of ~20 with 65537.
 */
export const POLY_DEGREE = 4096;
export const PLAIN_MODULUS = 65537;
/** int8 scale: a unit vector's components map to [−127, 127]. */
export const QUANT_SCALE = 127;
/** Coefficients reserved per vector; also the largest embedding dimension. */
export const BLOCK = 512;
export const MAX_DIM = BLOCK;
/** The coefficient of p·T that holds ⟨p, t⟩ (the masked result's only meaningful one). */
export const SCORE_INDEX = BLOCK - 1;

/**
 * Coefficients a 1:1 product never reaches (its support ends at 2·BLOCK − 2): the mask leaves
 * them 0, so a decryption that shows anything else there used the wrong key (a template left
 * from an earlier key pair, or another user's result) and must not yield a score.
 */
export const CHECK_INDICES: readonly number[] = Array.from({ length: 8 }, (_, i) => POLY_DEGREE - 8 + i);

/** Largest ‖q‖² a quantized unit vector of dimension `dim` can have: ⌊(127 + √d/2)²⌋. */
export function maxSquaredNorm(dim: number): number {
  return Math.floor((QUANT_SCALE + Math.sqrt(dim) / 2) ** 2);
}

/** Largest |score| that decodes exactly from a residue mod t: (t−1)/2. */
export const MAX_EXACT_SCORE = (PLAIN_MODULUS - 1) / 2;
