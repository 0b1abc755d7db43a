/**
 * Reads and writes plaintext polynomials in SEAL's binary format. node-seal 7 has no API to set
 * or read a plaintext's coefficients (the C++ hex-string constructor is not bound), so we build
 * the bytes `Plaintext.loadFromArray` accepts and read the ones `saveToArray` produces. The
 * layout is SEAL 4.1's (node-seal is pinned to 7.0.0 in package.json; the round trip is tested
 * against SEAL in test/template/plaintextCodec.test.ts):
 *
 *   SEALHeader (16 B): magic 0xA15E u16, header size 0x10 u8, version 4 u8, 1 u8,
 *                      compression u8 (0 = none), reserved u16, total size u64
 *   parms_id (4 × u64, zero for a non-NTT plaintext), coeff_count u64, scale f64,
 *   DynArray: SEALHeader (16 B), element count u64, coefficients (u64 each)
 */
import { FacegateError } from '../errors.ts';

const MAGIC = 0xa15e;
const HEADER_BYTES = 16;
const PARMS_ID_BYTES = 32;
// Offset of the first coefficient: header, parms_id, coeff_count, scale, inner header, count.
const COEFFS_OFFSET = HEADER_BYTES + PARMS_ID_BYTES + 8 + 8 + HEADER_BYTES + 8;

function writeHeader(view: DataView, offset: number, totalBytes: number): void {
  view.setUint16(offset, MAGIC, true);
  view.setUint8(offset + 2, HEADER_BYTES);
  view.setUint8(offset + 3, 4);
  view.setUint8(offset + 4, 1);
  view.setUint8(offset + 5, 0);
  view.setUint16(offset + 6, 0, true);
  view.setBigUint64(offset + 8, BigInt(totalBytes), true);
}

function checkHeader(view: DataView, offset: number): void {
  const ok =
    view.getUint16(offset, true) === MAGIC &&
    view.getUint8(offset + 2) === HEADER_BYTES &&
    view.getUint8(offset + 3) === 4 &&
    view.getUint8(offset + 5) === 0;
  // Our own bug or a changed SEAL format, never user input: fail loudly.
  if (!ok) throw new FacegateError('template.seal_format', 'unexpected SEAL plaintext serialization', 500);
}

/** Serialized plaintext with coefficient i = coefficients[i] (each already reduced mod t). */
export function plaintextBytes(coefficients: ArrayLike<number>): Uint8Array {
  const count = coefficients.length;
  const total = COEFFS_OFFSET + 8 * count;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  writeHeader(view, 0, total);
  view.setBigUint64(HEADER_BYTES + PARMS_ID_BYTES, BigInt(count), true);
  view.setFloat64(HEADER_BYTES + PARMS_ID_BYTES + 8, 1, true);
  const inner = HEADER_BYTES + PARMS_ID_BYTES + 16;
  writeHeader(view, inner, total - inner);
  view.setBigUint64(inner + HEADER_BYTES, BigInt(count), true);
  // Residues mod t fit the low word; the high word stays zero from the allocation.
  for (let i = 0; i < count; i++) view.setUint32(COEFFS_OFFSET + 8 * i, coefficients[i], true);
  return bytes;
}

/** The coefficients stored in a serialized (uncompressed) plaintext; coefficients past those are zero. */
export function readCoefficients(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkHeader(view, 0);
  checkHeader(view, HEADER_BYTES + PARMS_ID_BYTES + 16);
  const count = Number(view.getBigUint64(COEFFS_OFFSET - 8, true));
  if (COEFFS_OFFSET + 8 * count !== bytes.byteLength) throw new FacegateError('template.seal_format', 'SEAL plaintext size mismatch', 500);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const offset = COEFFS_OFFSET + 8 * i;
    // Coefficients are residues mod t < 2³²: the high word is always zero.
    if (view.getUint32(offset + 4, true) !== 0) throw new FacegateError('template.seal_format', 'plaintext coefficient out of range', 500);
    out[i] = view.getUint32(offset, true);
  }
  return out;
}
