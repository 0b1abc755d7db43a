/**
 * The SEAL runtime and BFV context, created once per process (context setup takes tens of ms).
 * Every SEAL object is WASM memory that JS garbage collection never frees: callers hold them
 * with `using` (node-seal handles implement Symbol.dispose) so they are deleted on every path.
 */
import SEAL from 'node-seal';
import type { Ciphertext, ContextData, Evaluator, MainModule, ParmsIdType, Plaintext, PublicKey, SEALContext, SecretKey } from 'node-seal';
import { ConfigError, InputError } from '../errors.ts';
import { PLAIN_MODULUS, POLY_DEGREE, RESULT_PRIMES_DROPPED } from './params.ts';
import { plaintextBytes } from './plaintextCodec.ts';

export type Bfv = {
  seal: MainModule;
  context: SEALContext;
  /** Stateless apart from its context; shared by all matches. */
  evaluator: Evaluator;
  /** Parameters of fresh ciphertexts (the data level), for NTT transforms of plaintexts. */
  dataParmsId: ParmsIdType;
  /** Parameters of secret keys (every prime, the key level): a compact secret is lifted to NTT form here. */
  keyParmsId: ParmsIdType;
  /** Parameters of a match result after modulus switching (RESULT_PRIMES_DROPPED fewer primes). */
  resultParmsId: ParmsIdType;
  /** RNS primes of fresh ciphertexts (for flooding noise) and of results (for the decision offset), ciphertextEdit.ts. */
  rns: { data: Rns; result: Rns };
};

/** The primes qᵢ of one level and their product q. */
export type Rns = { moduli: bigint[]; q: bigint };

let runtime: Promise<Bfv> | undefined;

export function bfv(): Promise<Bfv> {
  runtime ??= create();
  return runtime;
}

/** A WebAssembly trap, or SEAL running out of heap (std::bad_alloc), possibly wrapped by `using`. */
function isFatal(e: unknown): boolean {
  if (e instanceof SuppressedError) return isFatal(e.error) || isFatal(e.suppressed);
  return e instanceof WebAssembly.RuntimeError || /bad_alloc/.test(String((e as { message?: unknown } | null)?.message));
}

/**
 * Runs `fn` with the runtime. After a fatal WASM error (out of memory, abort) the SEAL heap is in
 * an unknown state, so the instance is dropped and the next call starts a fresh one.
 */
export async function withBfv<T>(fn: (b: Bfv) => T): Promise<T> {
  const current = bfv();
  const b = await current;
  try {
    return fn(b);
  } catch (e) {
    if (isFatal(e) && runtime === current) runtime = undefined;
    throw e;
  }
}

async function create(): Promise<Bfv> {
  const seal = await SEAL();
  using parms = new seal.EncryptionParameters(seal.SchemeType.bfv);
  parms.setPolyModulusDegree(POLY_DEGREE);
  using coeffModulus = seal.CoeffModulus.BFVDefault(POLY_DEGREE, seal.SecLevelType.tc128);
  parms.setCoeffModulus(coeffModulus);
  using plainModulus = new seal.Modulus(BigInt(PLAIN_MODULUS));
  parms.setPlainModulus(plainModulus);
  const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
  if (!context.parametersSet()) {
    context.delete();
    throw new ConfigError('BFV parameters rejected by SEAL');
  }
  const levels: { parmsId: ParmsIdType; rns: Rns }[] = [];
  let level: ContextData | undefined = context.firstContextData();
  for (let i = 0; i <= RESULT_PRIMES_DROPPED; i++) {
    if (!level) throw new ConfigError('BFV modulus chain too short for the result level');
    using parms = level.parms();
    using moduliVector = parms.coeffModulus();
    const moduli: bigint[] = [];
    for (let j = 0; j < moduliVector.size(); j++) {
      using modulus = moduliVector.get(j)!;
      moduli.push(modulus.value());
    }
    levels.push({ parmsId: level.parmsId(), rns: { moduli, q: moduli.reduce((product, qi) => product * qi, 1n) } });
    const next: ContextData = level.nextContextData();
    level.delete();
    level = next;
  }
  level?.delete();
  return {
    seal,
    context,
    evaluator: new seal.Evaluator(context),
    dataParmsId: levels[0].parmsId,
    keyParmsId: context.keyParmsId(),
    resultParmsId: levels[RESULT_PRIMES_DROPPED].parmsId,
    rns: { data: levels[0].rns, result: levels[RESULT_PRIMES_DROPPED].rns },
  };
}

/**
 * SEAL's own serialization. `compress` (zstd) shrinks keys by ~30% (coefficients are 36-bit
 * values in 64-bit words) but costs ~0.5 ms to load and ~2 ms to save, so the per-match forms
 * (stored template, masked result) stay uncompressed.
 */
export function serialize(b: Bfv, object: Ciphertext | PublicKey | SecretKey, compress = false): Uint8Array {
  return object.saveToArray(compress ? b.seal.ComprModeType.zstd : b.seal.ComprModeType.none) as Uint8Array;
}

/** A plaintext with the given coefficients (each in [0, t)). */
export function plaintextOf(b: Bfv, coefficients: ArrayLike<number>): Plaintext {
  const plain = new b.seal.Plaintext();
  const bytes = plaintextBytes(coefficients);
  try {
    plain.loadFromArray(b.context, bytes);
    return plain;
  } catch (e) {
    plain.delete();
    throw e;
  } finally {
    // The bytes may hold template or probe values.
    bytes.fill(0);
  }
}

function load<T extends Ciphertext | PublicKey | SecretKey>(b: Bfv, object: T, bytes: Uint8Array, what: string): T {
  try {
    // node-seal accepts only a plain Uint8Array, not a Buffer (what pg and node:crypto return).
    object.loadFromArray(b.context, bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return object;
  } catch {
    // SEAL validates the header, sizes and parameters; anything else is not ours.
    object.delete();
    throw new InputError(`template.bad_${what}`, `not a valid ${what.replace('_', ' ')} for these parameters`);
  }
}

export function loadCiphertext(b: Bfv, bytes: Uint8Array): Ciphertext {
  return load(b, new b.seal.Ciphertext(), bytes, 'ciphertext');
}

export function loadPublicKey(b: Bfv, bytes: Uint8Array): PublicKey {
  return load(b, new b.seal.PublicKey(), bytes, 'public_key');
}

export function loadSecretKey(b: Bfv, bytes: Uint8Array): SecretKey {
  return load(b, new b.seal.SecretKey(), bytes, 'secret_key');
}
