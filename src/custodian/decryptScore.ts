/**
 * The SEAL half of the custodian's one decryption: secret key bytes + masked result → the score
 * coefficient, or a refusal: `wrong_key` when the check coefficients are not 0 (decrypting with
 * another key than the result was made for gives uniform noise, a random "score"), `unmasked`
 * when the plaintext is not a masked result. Every SEAL object is deleted here, and the
 * decrypted coefficients are wiped before returning.
 */
import { InputError } from '../errors.ts';
import { loadCiphertext, loadSecretKey, withBfv } from '../template/bfv.ts';
import { CHECK_INDICES, SCORE_INDEX } from '../template/params.ts';
import { readCoefficients } from '../template/plaintextCodec.ts';
import { looksMasked } from './maskCheck.ts';

export type ScoreDecryption = { outcome: 'score'; value: number } | { outcome: 'wrong_key' | 'unmasked' };

export function decryptScore(secretKey: Uint8Array, ciphertext: Uint8Array): Promise<ScoreDecryption> {
  return withBfv((b) => {
    using key = loadSecretKey(b, secretKey);
    using decryptor = new b.seal.Decryptor(b.context, key);
    using cipher = loadCiphertext(b, ciphertext);
    // A match result is in coefficient form with 2 (ct×pt) or 3 (ct×ct) polynomials; a stored
    // template is in NTT form.
    if (cipher.size() > 3 || cipher.isNttForm()) throw new InputError('custodian.bad_ciphertext', 'not a match result');
    using plain = new b.seal.Plaintext();
    decryptor.decrypt(cipher, plain);
    const coefficients = readCoefficients(plain.saveToArray(b.seal.ComprModeType.none) as Uint8Array);
    try {
      if (CHECK_INDICES.some((i) => i < coefficients.length && coefficients[i] !== 0)) return { outcome: 'wrong_key' } as const;
      if (!looksMasked(coefficients)) return { outcome: 'unmasked' } as const;
      return { outcome: 'score', value: SCORE_INDEX < coefficients.length ? coefficients[SCORE_INDEX] : 0 } as const;
    } finally {
      coefficients.fill(0);
    }
  });
}
