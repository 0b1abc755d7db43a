/**
 * The server side of a match: the encrypted inner product of a stored template with a probe,
 * turned into a decision-only, circuit-private result before it leaves (params.ts proves the
 * bounds). The result decrypts to v = a·(⟨p,t⟩ − θ) + b at the score coefficient, with fresh
 * random 1 ≤ a ≤ 2^13 and 0 ≤ b < a, and to uniform residues everywhere else but the check
 * positions: its sign is the decision and a and b stay here, so the custodian learns accept or
 * reject (and, from |v|, a blurred margin — bounded by a's spread; it never leaves the custodian).
 * A blinder (blinder.ts: fresh Enc_pk(M) plus flooding noise) re-randomizes every result.
 *
 * Templates are stored in NTT form, so a ct×pt match transforms only the probe: NTT(a·probe),
 * pointwise product, one inverse NTT. Two primes are then dropped (modulus switching): the result
 * is half the size and cheaper to decrypt, and the noise still fits (params.ts (2)).
 */
import { InputError } from '../errors.ts';
import { addPlainCoefficient } from './ciphertextEdit.ts';
import { loadCiphertext, loadPublicKey, plaintextOf, serialize, withBfv } from './bfv.ts';
import { probeCoefficients, templateCoefficients } from './encoding.ts';
import { mod, randomIntIn } from './modular.ts';
import { BLOCK, MAX_MASK_FACTOR, MAX_THRESHOLD, SCORE_INDEX } from './params.ts';

/** Encrypts a quantized template (or several packed at offsets j·block) under a public key. */
export function encryptTemplate(publicKey: Uint8Array, templates: Int8Array[], block: number = BLOCK): Promise<Uint8Array> {
  const coefficients = templateCoefficients(templates, block);
  return withBfv((b) => {
    using pk = loadPublicKey(b, publicKey);
    using encryptor = new b.seal.Encryptor(b.context, pk);
    using plain = plaintextOf(b, coefficients);
    coefficients.fill(0);
    using cipher = new b.seal.Ciphertext();
    encryptor.encrypt(plain, cipher);
    b.evaluator.cipherTransformToNttInplace(cipher);
    return serialize(b, cipher);
  });
}

/**
 * The masked result for the custodian. `threshold` is θ in the quantized score domain
 * (scoreThreshold in quantize.ts); `blinder` is used once and wiped.
 */
export async function decisionMatch(opts: { template: Uint8Array; probe: Int8Array; threshold: number; blinder: Uint8Array }): Promise<Uint8Array> {
  const { threshold, blinder } = opts;
  if (!Number.isInteger(threshold) || Math.abs(threshold) > MAX_THRESHOLD) {
    throw new InputError('template.bad_threshold', `threshold must be an integer in [−${MAX_THRESHOLD}, ${MAX_THRESHOLD}]`);
  }
  const a = randomIntIn(1, MAX_MASK_FACTOR);
  const offset = mod(randomIntIn(0, a - 1) - a * threshold);
  const probe = probeCoefficients(opts.probe, a);
  try {
    return await withBfv((b) => {
      using template = loadCiphertext(b, opts.template);
      if (template.size() !== 2 || !template.isNttForm()) throw new InputError('template.bad_ciphertext', 'not a stored template');
      using blind = loadCiphertext(b, blinder);
      using probePlain = plaintextOf(b, probe);
      using product = new b.seal.Ciphertext();
      b.evaluator.plainTransformToNttInplace(probePlain, b.dataParmsId);
      b.evaluator.multiplyPlain(template, probePlain, product);
      b.evaluator.cipherTransformFromNttInplace(product);
      b.evaluator.addInplace(product, blind);
      b.evaluator.cipherModSwitchToInplace(product, b.resultParmsId);
      const bytes = serialize(b, product);
      addPlainCoefficient(bytes, SCORE_INDEX, offset, b.rns.result);
      return bytes;
    });
  } finally {
    probe.fill(0);
    blinder.fill(0);
  }
}
