/**
 * Blinders: what makes a match result circuit-private. A blinder is a fresh encryption under the
 * user's public key of the mask M (uniform mod t on every coefficient but the score and check
 * positions, which are 0) with flooding noise added to c₀ (uniform in [−2^110, 2^110), params.ts
 * (2)). Added to the product template × probe it re-randomizes c₁ (no longer template c₁ · probe,
 * so results of one template form no linear system), hides every coefficient but the score, and
 * drowns the product's probe-dependent noise. One blinder serves one match, never two: a reused
 * one would cancel out of the difference of two results.
 */
import { randomBytes } from 'node:crypto';
import { addToFirstPolynomial } from './ciphertextEdit.ts';
import { loadPublicKey, plaintextOf, serialize, withBfv } from './bfv.ts';
import { maskCoefficients } from './encoding.ts';
import { CHECK_INDICES, FLOOD_BITS, POLY_DEGREE, SCORE_INDEX } from './params.ts';

const FLOOD_MASK = (1n << BigInt(FLOOD_BITS + 1)) - 1n;
const FLOOD_OFFSET = 1n << BigInt(FLOOD_BITS);

/** Coefficient j's flooding noise from 128 random bits: uniform in [−2^FLOOD_BITS, 2^FLOOD_BITS). */
function flood(words: BigUint64Array, j: number): bigint {
  return (((words[2 * j] << 64n) | words[2 * j + 1]) & FLOOD_MASK) - FLOOD_OFFSET;
}

export function makeBlinder(publicKey: Uint8Array): Promise<Uint8Array> {
  const mask = maskCoefficients([SCORE_INDEX, ...CHECK_INDICES]);
  const random = randomBytes(16 * POLY_DEGREE);
  const words = new BigUint64Array(random.buffer, random.byteOffset, 2 * POLY_DEGREE);
  return withBfv((b) => {
    using pk = loadPublicKey(b, publicKey);
    using encryptor = new b.seal.Encryptor(b.context, pk);
    using plain = plaintextOf(b, mask);
    using cipher = new b.seal.Ciphertext();
    encryptor.encrypt(plain, cipher);
    const bytes = serialize(b, cipher);
    addToFirstPolynomial(bytes, b.rns.data, (j) => flood(words, j));
    return bytes;
  }).finally(() => {
    mask.fill(0);
    random.fill(0);
  });
}
