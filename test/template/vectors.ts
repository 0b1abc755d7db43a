/** Test helpers: random unit vectors and a test-only BFV key pair with full decryption. */
import fc from 'fast-check';
import type { SecretKey } from 'node-seal';
import { bfv, loadCiphertext, serialize, type Bfv } from '../../src/template/bfv.ts';
import { readCoefficients } from '../../src/template/plaintextCodec.ts';
import { POLY_DEGREE } from '../../src/template/params.ts';
import { cosine, l2Normalize } from '../../src/face/embed.ts';

// The embedding layer's own vector math, so tests measure what production computes.
export { cosine, l2Normalize as normalise };

export function randomUnit(dim: number, random: () => number = Math.random): Float32Array {
  // Box–Muller: Gaussian components give a uniform direction.
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return l2Normalize(v);
}

export function dot(a: Int8Array, b: Int8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** mulberry32: a small seeded PRNG, so fast-check can shrink and replay Gaussian draws. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** fast-check arbitrary: a uniformly random direction, like a real embedding's. */
export function gaussianUnitVector(dim: number): fc.Arbitrary<Float32Array> {
  return fc.integer().map((seed) => randomUnit(dim, seededRandom(seed)));
}

/** fast-check arbitrary: an adversarial unit vector of `dim` components (never the zero vector). */
export function unitVector(dim: number): fc.Arbitrary<Float32Array> {
  return fc
    .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: dim, maxLength: dim })
    .filter((xs) => xs.some((x) => Math.abs(x) > 1e-3))
    .map((xs) => l2Normalize(Float32Array.from(xs)));
}

/** A key pair held by the test itself, to inspect every coefficient of a masked result. */
export async function testKeys(): Promise<{ b: Bfv; publicKey: Uint8Array; secretKey: SecretKey; decrypt(c: Uint8Array): Uint32Array; noiseBudget(c: Uint8Array): number; close(): void }> {
  const b = await bfv();
  const keygen = new b.seal.KeyGenerator(b.context);
  const secretKey = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const publicKey = serialize(b, pk);
  pk.delete();
  keygen.delete();
  const decryptor = new b.seal.Decryptor(b.context, secretKey);
  return {
    b,
    publicKey,
    secretKey,
    decrypt(c) {
      using cipher = loadCiphertext(b, c);
      // Stored templates are in NTT form; BFV decrypts coefficient form.
      if (cipher.isNttForm()) b.evaluator.cipherTransformFromNttInplace(cipher);
      using plain = new b.seal.Plaintext();
      decryptor.decrypt(cipher, plain);
      const stored = readCoefficients(plain.saveToArray(b.seal.ComprModeType.none) as Uint8Array);
      const full = new Uint32Array(POLY_DEGREE);
      full.set(stored);
      return full;
    },
    noiseBudget(c) {
      using cipher = loadCiphertext(b, c);
      if (cipher.isNttForm()) b.evaluator.cipherTransformFromNttInplace(cipher);
      return decryptor.invariantNoiseBudget(cipher);
    },
    close() {
      decryptor.delete();
      secretKey.delete();
    },
  };
}
