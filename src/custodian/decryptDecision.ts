/**
 * The SEAL half of the custodian's one decryption: unsealed key bytes (compactSecretKey.ts) + masked result → accept or
 * reject, or a refusal: `wrong_key` when the check coefficients are not 0 (decrypting with
 * another key than the result was made for gives uniform noise, a random sign), `unmasked`
 * when the plaintext is not a masked result. Only the sign of the centred score coefficient leaves
 * this function; every SEAL object is deleted and the decrypted coefficients are wiped.
 */
import { InputError } from '../errors.ts';
import { loadCiphertext, withBfv } from '../template/bfv.ts';
import { centred } from '../template/modular.ts';
import { CHECK_INDICES, SCORE_INDEX } from '../template/params.ts';
import { readCoefficients } from '../template/plaintextCodec.ts';
import { secretKeyOf } from './compactSecretKey.ts';
import type { MatchDecision } from './custodian.ts';
import { looksMasked } from './maskCheck.ts';

export type Decryption = { outcome: 'decision'; decision: MatchDecision } | { outcome: 'wrong_key' | 'unmasked' };

export function decryptDecision(secretKey: Uint8Array, ciphertext: Uint8Array): Promise<Decryption> {
  return withBfv((b) => {
    using key = secretKeyOf(b, secretKey);
    using decryptor = new b.seal.Decryptor(b.context, key);
    using cipher = loadCiphertext(b, ciphertext);
    // A match result is a ct×pt product in coefficient form (2 polynomials); a stored template is in NTT form.
    if (cipher.size() !== 2 || cipher.isNttForm()) throw new InputError('custodian.bad_ciphertext', 'not a match result');
    using plain = new b.seal.Plaintext();
    decryptor.decrypt(cipher, plain);
    const coefficients = readCoefficients(plain.saveToArray(b.seal.ComprModeType.none) as Uint8Array);
    try {
      if (CHECK_INDICES.some((i) => i < coefficients.length && coefficients[i] !== 0)) return { outcome: 'wrong_key' } as const;
      if (!looksMasked(coefficients)) return { outcome: 'unmasked' } as const;
      const value = SCORE_INDEX < coefficients.length ? centred(coefficients[SCORE_INDEX]) : 0;
      return { outcome: 'decision', decision: value >= 0 ? 'accept' : 'reject' } as const;
    } finally {
      coefficients.fill(0);
    }
  });
}
