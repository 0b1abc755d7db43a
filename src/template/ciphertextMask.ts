/**
 * Adds a plaintext mask M to a serialized BFV ciphertext exactly as SEAL's addPlain does:
 * c₀ += round(q·M/t) = ⌊q/t⌋·M + ⌊((q mod t)·M + (t+1)/2) / t⌋, prime by prime. addPlain costs
 * ~0.7 ms for 4096 coefficients in this WebAssembly build (128-bit divisions); here it is ~0.1 ms.
 * It edits SEAL 4.1's uncompressed ciphertext layout (node-seal pinned to 7.0.0; the result is
 * compared byte for byte with addPlain in test/template/ciphertextMask.test.ts):
 *
 *   SEALHeader (16 B: magic 0xA15E, size 0x10, version 4.1, compression 0, …, total u64),
 *   parms_id (32 B), is_ntt_form u8, size u64, N u64, coeff_modulus_size u64, scale f64,
 *   correction_factor u64, DynArray (SEALHeader, count u64, u64 data: poly-major, then prime,
 *   then coefficient)
 */
import { FacegateError } from '../errors.ts';
import { PLAIN_MODULUS, POLY_DEGREE } from './params.ts';

const DATA_OFFSET = 16 + 32 + 1 + 8 + 8 + 8 + 8 + 8 + 16 + 8;
const TWO_32 = 2 ** 32;

function formatError(what: string): never {
  // A changed SEAL layout or our own bug, never user input.
  throw new FacegateError('template.seal_format', `unexpected SEAL ciphertext serialization: ${what}`, 500);
}

/** (a·b) mod q for a, b < 2³⁶ with a·b < 2⁵³, in doubles (exact). */
function mulModQ(a: number, b: number, q: number): number {
  const p = a * b;
  let r = p - q * Math.floor(p / q);
  if (r < 0) r += q;
  else if (r >= q) r -= q;
  return r;
}

export function addMaskToCiphertext(bytes: Uint8Array, mask: Uint32Array, rns: { moduli: number[]; deltaResidues: number[]; qModT: number }): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = rns.moduli.length;
  if (view.getUint16(0, true) !== 0xa15e || view.getUint8(3) !== 4 || view.getUint8(4) !== 1) formatError('header');
  if (view.getUint8(5) !== 0) formatError('compressed');
  if (view.getUint8(48) !== 0) formatError('NTT form');
  const size = Number(view.getBigUint64(49, true));
  if (Number(view.getBigUint64(57, true)) !== POLY_DEGREE || Number(view.getBigUint64(65, true)) !== k) formatError('parameters');
  if (Number(view.getBigUint64(DATA_OFFSET - 8, true)) !== size * k * POLY_DEGREE) formatError('data size');
  if (bytes.byteLength !== DATA_OFFSET + 8 * size * k * POLY_DEGREE || mask.length !== POLY_DEGREE) formatError('length');
  const half = (PLAIN_MODULUS + 1) / 2;
  for (let i = 0; i < k; i++) {
    const q = rns.moduli[i];
    const delta = rns.deltaResidues[i];
    // c₀ is the first polynomial; its residues mod qᵢ are the i-th run of N words.
    for (let j = 0; j < POLY_DEGREE; j++) {
      const m = mask[j];
      if (m === 0) continue;
      // (q mod t)·m < 2³⁴: exact in doubles.
      const fix = Math.floor((rns.qModT * m + half) / PLAIN_MODULUS);
      const offset = DATA_OFFSET + 8 * (i * POLY_DEGREE + j);
      let c = view.getUint32(offset, true) + view.getUint32(offset + 4, true) * TWO_32 + mulModQ(delta, m, q) + fix;
      while (c >= q) c -= q;
      view.setUint32(offset, c % TWO_32, true);
      view.setUint32(offset + 4, Math.floor(c / TWO_32), true);
    }
  }
}
