/**
 * BFV parameters for decision-only template matching, and the two bounds that make them correct:
 * the masked decision value never wraps mod t, and the flooding noise hides the probe yet leaves
 * decryption exact.
 *
 * N = 8192 with SEAL's 128-bit default coefficient modulus (BFVDefault(8192): primes of 43, 43, 44,
 * 44, 44 bits; the last is the key-switching prime, so data ciphertexts live mod q ≈ 2^174 with 4
 * primes) and the prime t = 1,073,692,673 ≈ 2^30 (PlainModulus.Batching(8192, 30); batching is not
 * used, any prime would do). N = 4096 with t = 65537 held a score, but neither the decision mask
 * below (a·(score−θ)+b needs ≈ 2^29 of headroom) nor 2^110 of flooding noise (Δ ≈ 2^93 there).
 *
 * Layout: a vector of dimension d ≤ BLOCK is padded to BLOCK = 512 coefficients, so the score
 * sits at one fixed coefficient, SCORE_INDEX = BLOCK − 1, whatever the model. p·T has degree
 * ≤ 2·BLOCK − 2 < N: the negacyclic wrap of Z_t[x]/(x^N + 1) never touches it.
 *
 * (1) No wrap. The quantizer rounds 127·u for a unit vector u, so |qᵢ| ≤ 127·|uᵢ| + ½ and
 * ‖q‖ ≤ 127 + √d/2; by Cauchy–Schwarz |⟨p,q⟩| ≤ (127 + √d/2)² ≤ S = 19,130 for d ≤ 512 (enforced
 * on every encoded vector by encoding.ts, not assumed). The threshold θ is the integer image of a
 * cosine in [−1, 1]: |θ| ≤ 127² = 16,129 (quantize.ts). The custodian decrypts
 * v = a·(score − θ) + b with 1 ≤ a ≤ A = 2^13 and 0 ≤ b < a, so
 *   |v| < a·(|score − θ| + 1) ≤ 2^13 · (19,130 + 16,129 + 1) = 288,849,920 < (t − 1)/2 = 536,846,336:
 * the centred residue is v itself, and v ≥ 0 ⟺ score ≥ θ (score ≥ θ gives v ≥ b ≥ 0; score ≤ θ − 1
 * gives v ≤ b − a < 0). test/template/matcher.test.ts checks this at the extremes.
 *
 * (2) Flooding. What the custodian can compute besides the plaintext is the noise
 * w = c₀ + c₁·s − ⌊q/t⌋·m (mod q). Of the product's noise only ν·P depends on the probe: a fresh
 * SEAL encryption has c₀ + c₁·s = round(q·m/t) + z with z = −e·u + e₁ + e₂·s, every error
 * coefficient |e| ≤ 19 (clipped normal, 6σ = 19.2) and u, s ternary, so ‖z‖∞ ≤ 19·(2N + 1) =
 * Z = 311,315. Multiplying by the centred plaintext P = a·p (d ≤ 512 coefficients, each ≤ (t−1)/2)
 * scales the template's invariant noise by at most ‖P‖₁, i.e. the probe-dependent part of w is at
 * most W = 512 · 536,846,336 · (Z + ½) ≈ 8.56·10^16 < 2^56.3. Adding to c₀ an integer uniform in
 * [−B, B] per coefficient moves the distribution by at most 2W/(2B+1) per coefficient, N·W/B over
 * all of them: 2^13 · 2^56.3 / B ≤ 2^−40 needs B ≥ 2^109.3; FLOOD_BITS = 110 gives ≤ 2^−40.7. The
 * fresh Enc_pk(M) added with it makes c₁ pseudorandom (RLWE), so c₁ no longer is template c₁ · P.
 * Correctness: total noise ≤ 2^110 + 2^56.3 + 2Z ≈ 2^110, against Δ/2 = ⌊q/t⌋/2 ≈ 2^143: ~33 bits
 * of budget left; after dropping two primes (q' ≈ 2^86, Δ'/2 ≈ 2^55, noise scaled to ≈ 2^22 plus
 * ≤ N/2 rounding) still ~33 bits (test/template/matcher.test.ts measures it).
 */
export const POLY_DEGREE = 8192;
export const PLAIN_MODULUS = 1_073_692_673;
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
 * from an earlier key pair, or another user's result) and must not yield a decision. They hold
 * 0 whatever the template and probe, so they tell the custodian nothing.
 */
export const CHECK_INDICES: readonly number[] = Array.from({ length: 8 }, (_, i) => POLY_DEGREE - 8 + i);

/** Largest ‖q‖² a quantized unit vector of dimension `dim` can have: ⌊(127 + √d/2)²⌋. */
export function maxSquaredNorm(dim: number): number {
  return Math.floor((QUANT_SCALE + Math.sqrt(dim) / 2) ** 2);
}

/** Largest |⟨p,q⟩| of two quantized vectors of dimension ≤ MAX_DIM (Cauchy–Schwarz, (1) above). */
export const MAX_SCORE = maxSquaredNorm(MAX_DIM);
/** Largest |θ|: a cosine threshold in [−1, 1] times 127². */
export const MAX_THRESHOLD = QUANT_SCALE * QUANT_SCALE;
/** The decision mask's factor a is drawn from [1, MAX_MASK_FACTOR] ((1) above). */
export const MAX_MASK_FACTOR = 2 ** 13;
/** Flooding noise: uniform in [−2^FLOOD_BITS, 2^FLOOD_BITS] on every coefficient of c₀ ((2) above). */
export const FLOOD_BITS = 110;
/** Primes dropped from a result before it leaves (modulus switching): half the bytes, same secrecy. */
export const RESULT_PRIMES_DROPPED = 2;
