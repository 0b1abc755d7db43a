/**
 * Edits the first polynomial c₀ of a serialized BFV ciphertext in place: adding a plaintext
 * coefficient exactly as SEAL's addPlain does (c₀ += round(q·m/t) = ⌊(q·m + (t+1)/2) / t⌋), and
 * adding arbitrary integers (flooding noise). SEAL's addPlain walks all N·k words (~1 ms here)
 * to change one coefficient; this touches k words. It edits SEAL 4.1's uncompressed ciphertext
 * layout (node-seal pinned to 7.0.0; test/template/ciphertextEdit.test.ts compares it byte for
 * byte with addPlain):
 *
 *   SEALHeader (16 B: magic 0xA15E, size 0x10, version 4.1, compression 0, …, total u64),
 *   parms_id (32 B), is_ntt_form u8, size u64, N u64, coeff_modulus_size u64, scale f64,
 *   correction_factor u64, DynArray (SEALHeader, count u64, u64 data: poly-major, then prime,
 *   then coefficient)
 */
import { FacegateError } from '../errors.ts';
import type { Rns } from './bfv.ts';
import { PLAIN_MODULUS, POLY_DEGREE } from './params.ts';

const DATA_OFFSET = 16 + 32 + 1 + 8 + 8 + 8 + 8 + 8 + 16 + 8;
const T = BigInt(PLAIN_MODULUS);
const HALF_T = (T + 1n) / 2n;

function formatError(what: string): never {
  // A changed SEAL layout or our own bug, never user input.
  throw new FacegateError('template.seal_format', `unexpected SEAL ciphertext serialization: ${what}`, 500);
}

function checkedView(bytes: Uint8Array, rns: Rns): DataView {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = rns.moduli.length;
  if (bytes.byteLength < DATA_OFFSET) formatError('length');
  if (view.getUint16(0, true) !== 0xa15e || view.getUint8(3) !== 4 || view.getUint8(4) !== 1) formatError('header');
  if (view.getUint8(5) !== 0) formatError('compressed');
  if (view.getUint8(48) !== 0) formatError('NTT form');
  const size = Number(view.getBigUint64(49, true));
  if (Number(view.getBigUint64(57, true)) !== POLY_DEGREE || Number(view.getBigUint64(65, true)) !== k) formatError('parameters');
  if (Number(view.getBigUint64(DATA_OFFSET - 8, true)) !== size * k * POLY_DEGREE) formatError('data size');
  if (bytes.byteLength !== DATA_OFFSET + 8 * size * k * POLY_DEGREE) formatError('length');
  return view;
}

function addAt(view: DataView, rns: Rns, i: number, j: number, value: bigint): void {
  const q = rns.moduli[i];
  const offset = DATA_OFFSET + 8 * (i * POLY_DEGREE + j);
  let r = (view.getBigUint64(offset, true) + (value % q)) % q;
  if (r < 0n) r += q;
  view.setBigUint64(offset, r, true);
}

/** c₀[index] += round(q·m/t): the ciphertext then decrypts to m added at coefficient `index` (m in [0, t)). */
export function addPlainCoefficient(bytes: Uint8Array, index: number, m: number, rns: Rns): void {
  const view = checkedView(bytes, rns);
  const scaled = (rns.q * BigInt(m) + HALF_T) / T;
  for (let i = 0; i < rns.moduli.length; i++) addAt(view, rns, i, index, scaled);
}

/** c₀[j] += values(j) for every coefficient j: noise, which decryption rounds away while it stays below Δ/2. */
export function addToFirstPolynomial(bytes: Uint8Array, rns: Rns, values: (j: number) => bigint): void {
  const view = checkedView(bytes, rns);
  for (let j = 0; j < POLY_DEGREE; j++) {
    const value = values(j);
    for (let i = 0; i < rns.moduli.length; i++) addAt(view, rns, i, j, value);
  }
}
