/**
 * The server side of a match: encrypted inner product of a stored template with a probe,
 * masked before it leaves. The result decrypts to r·⟨p,t⟩ at the score coefficient and to
 * uniform noise everywhere else; r stays here, in the closure `unmask`.
 *
 * Templates are stored in NTT form, so a ct×pt match transforms only the probe: NTT(probe),
 * pointwise product, one inverse NTT — about 40% less than SEAL's generic multiplyPlain.
 */
import { InputError } from '../errors.ts';
import { loadCiphertext, loadPublicKey, plaintextOf, serialize, withBfv } from './bfv.ts';
import { addMaskToCiphertext } from './ciphertextMask.ts';
import { maskCoefficients, probeCoefficients, scoreIndex, templateCoefficients } from './encoding.ts';
import { centred, inverse, mulMod, randomNonZero } from './modular.ts';
import { BLOCK, CHECK_INDICES } from './params.ts';

/**
 * `encrypted`: the probe is encrypted under the user's public key and multiplied ct×ct (the
 * result has 3 polynomials; decryption needs no relinearization key). `plain`: the probe stays a
 * plaintext and is multiplied ct×pt — cheaper, same result.
 */
export type ProbeMode = 'encrypted' | 'plain';

export type MaskedMatch = {
  /** The masked result, for the custodian. */
  ciphertext: Uint8Array;
  /** Turns the custodian's r·score mod t into the signed integer inner product. */
  unmask(maskedScore: number): number;
};

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

export async function maskedMatch(opts: {
  template: Uint8Array;
  publicKey: Uint8Array;
  probe: Int8Array;
  mode: ProbeMode;
  /** Score positions left unmasked: 1 for a 1:1 match, k for k packed templates. */
  blocks?: number;
  block?: number;
}): Promise<MaskedMatch> {
  const { mode, blocks = 1, block = BLOCK } = opts;
  const r = randomNonZero();
  const probe = probeCoefficients(opts.probe, r);
  const kept = Array.from({ length: blocks }, (_, j) => scoreIndex(j, block));
  // One template leaves the top coefficients of the product at 0: they let the custodian detect a wrong key.
  if (blocks === 1) kept.push(...CHECK_INDICES);
  const ciphertext = await withBfv((b) => {
    using template = loadCiphertext(b, opts.template);
    if (template.size() !== 2 || !template.isNttForm()) throw new InputError('template.bad_ciphertext', 'not a stored template');
    using probePlain = plaintextOf(b, probe);
    using product = new b.seal.Ciphertext();
    if (mode === 'plain') {
      b.evaluator.plainTransformToNttInplace(probePlain, b.dataParmsId);
      b.evaluator.multiplyPlain(template, probePlain, product);
      b.evaluator.cipherTransformFromNttInplace(product);
    } else {
      // BFV ct×ct multiplies in coefficient form.
      b.evaluator.cipherTransformFromNttInplace(template);
      using pk = loadPublicKey(b, opts.publicKey);
      using encryptor = new b.seal.Encryptor(b.context, pk);
      using probeCipher = new b.seal.Ciphertext();
      encryptor.encrypt(probePlain, probeCipher);
      b.evaluator.multiply(template, probeCipher, product);
    }
    const bytes = serialize(b, product);
    addMaskToCiphertext(bytes, maskCoefficients(kept), b.rns);
    return bytes;
  }).finally(() => probe.fill(0));
  const rInverse = inverse(r);
  return { ciphertext, unmask: (maskedScore) => centred(mulMod(maskedScore, rInverse)) };
}
