/**
 * The form a user's BFV secret key is sealed in: its ternary coefficients, 2 bits each (2,049 bytes
 * at N = 8192), instead of SEAL's serialization (N = 8192 coefficients × 5 key-level primes in NTT
 * form: 327 KB, 271 KB with zstd). Reading, unsealing and parsing that blob was most of a custodian
 * decision (7 ms CPU on Postgres, 28 ms on PGlite for the row alone).
 *
 * The secret is drawn here exactly as SEAL's KeyGenerator draws it (sample_poly_ternary: each
 * coefficient uniform in {−1, 0, 1}, from a CSPRNG). SEAL is given it back as a plaintext with −1
 * written t − 1: transforming that plaintext to NTT form at the key level lifts a coefficient
 * x ≥ (t+1)/2 to qᵢ − (t − x), i.e. −1 to qᵢ − 1 (SEAL's fast plain lift, t < every qᵢ), which is
 * SEAL's own secret-key representation, and a SecretKey serializes as its plaintext, so the saved
 * plaintext loads as the SecretKey. test/custodian/compactSecretKey.test.ts checks byte equality
 * with a key SEAL generated.
 *
 * Layout: FORMAT_COMPACT ‖ N/4 bytes, coefficient i in bits 2(i mod 4)..2(i mod 4)+1 of byte
 * 1 + ⌊i/4⌋ (0 → 0, 1 → 1, 2 → −1; 3 never occurs). Rows sealed before this form hold SEAL's
 * serialization, which starts with the SEAL magic's low byte 0x5E and still loads.
 */
import { randomBytes } from 'node:crypto';
import type { SecretKey } from 'node-seal';
import { FacegateError } from '../errors.ts';
import { loadSecretKey, plaintextOf, type Bfv } from '../template/bfv.ts';
import { PLAIN_MODULUS, POLY_DEGREE } from '../template/params.ts';

export const FORMAT_COMPACT = 0x01;
/** First byte of SEAL's serialization (magic 0xA15E, little-endian): a key sealed in SEAL's own form. */
const SEAL_MAGIC_LOW = 0x5e;
export const COMPACT_SECRET_BYTES = 1 + POLY_DEGREE / 4;

/** A fresh secret key in the compact form. */
export function newCompactSecret(): Uint8Array {
  const out = new Uint8Array(COMPACT_SECRET_BYTES);
  out[0] = FORMAT_COMPACT;
  let filled = 0;
  while (filled < POLY_DEGREE) {
    // A byte below 255 mod 3 is uniform on {0, 1, 2}; 255 is redrawn (1 in 256).
    const draws = randomBytes(POLY_DEGREE - filled + 64);
    for (let k = 0; k < draws.length && filled < POLY_DEGREE; k++) {
      if (draws[k] === 255) continue;
      out[1 + (filled >> 2)] |= (draws[k] % 3) << (2 * (filled & 3));
      filled++;
    }
    draws.fill(0);
  }
  return out;
}

function malformed(): never {
  // Unsealed bytes are authenticated: a bad form is our own bug, never user input.
  throw new FacegateError('custodian.bad_secret_form', 'an unsealed secret key is in no known form', 500);
}

/** The plaintext coefficients of a compact secret: 0, 1, or t − 1 for −1. */
function coefficientsOf(compact: Uint8Array): Uint32Array {
  if (compact.length !== COMPACT_SECRET_BYTES) malformed();
  const out = new Uint32Array(POLY_DEGREE);
  for (let i = 0; i < POLY_DEGREE; i++) {
    const code = (compact[1 + (i >> 2)] >> (2 * (i & 3))) & 3;
    if (code === 3) {
      out.fill(0);
      malformed();
    }
    out[i] = code === 2 ? PLAIN_MODULUS - 1 : code;
  }
  return out;
}

/**
 * The SEAL SecretKey of unsealed key bytes (compact or SEAL's form). The caller deletes it; every
 * intermediate copy (coefficients, NTT plaintext in JS and in the WASM heap) is wiped here.
 */
export function secretKeyOf(b: Bfv, stored: Uint8Array): SecretKey {
  if (stored[0] === SEAL_MAGIC_LOW) return loadSecretKey(b, stored);
  if (stored[0] !== FORMAT_COMPACT) malformed();
  const coefficients = coefficientsOf(stored);
  let ntt: Uint8Array | undefined;
  try {
    using plain = plaintextOf(b, coefficients);
    b.evaluator.plainTransformToNttInplace(plain, b.keyParmsId);
    ntt = plain.saveToArray(b.seal.ComprModeType.none) as Uint8Array;
    plain.setZero();
    return loadSecretKey(b, ntt);
  } finally {
    coefficients.fill(0);
    ntt?.fill(0);
  }
}
