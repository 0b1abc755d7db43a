/**
 * Looks for a face embedding kept in the clear: a vector of the embedding's length (128) either
 * as text — a run of that many numbers, as a JSON or Postgres array prints it — or as binary —
 * that many float32 or float64 values (little- or big-endian, at any byte offset, also inside
 * base64 or hex text) whose L2 norm is near 1 with the weight spread over the components, as an
 * L2-normalised embedding's is. Random or encrypted bytes almost never decode to such a window
 * (a value lands in 1e-4..0.9 far less than half the time); a lone 1.0 among tiny values (a
 * serialised scale factor beside 64-bit integers) is not a vector, so a finding is a real one.
 */
import type { Finding, Haystack } from './canary.ts';

export const EMBEDDING_LENGTH = 128;

const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/g;
const SEPARATOR = /^\s*[,;]?\s*$/;

/** The longest run of numbers separated only by commas, semicolons or spaces in `text`. */
export function longestNumberRun(text: string): number {
  let longest = 0;
  let run = 0;
  let lastEnd = -1;
  for (const m of text.matchAll(NUMBER)) {
    const gap = lastEnd < 0 ? null : text.slice(lastEnd, m.index);
    run = gap !== null && gap.length > 0 && SEPARATOR.test(gap) ? run + 1 : 1;
    longest = Math.max(longest, run);
    lastEnd = m.index + m[0].length;
  }
  return longest;
}

type Layout = { name: string; size: 4 | 8; littleEndian: boolean };
const LAYOUTS: Layout[] = [
  { name: 'float32le', size: 4, littleEndian: true },
  { name: 'float32be', size: 4, littleEndian: false },
  { name: 'float64le', size: 8, littleEndian: true },
  { name: 'float64be', size: 8, littleEndian: false },
];

/** Where an embedding's components lie: none carries most of the norm, and (nearly) none is ~0. */
const SPREAD = { min: 1e-4, max: 0.9 };

/** The layout of the first window of `length` spread values in `bytes` with |norm − 1| < 0.02, if any. */
export function unitVectorLayout(bytes: Uint8Array, length = EMBEDDING_LENGTH): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const { name, size, littleEndian } of LAYOUTS) {
    if (bytes.length < size * length) continue;
    for (let start = 0; start < size; start++) {
      const count = Math.floor((bytes.length - start) / size);
      if (count < length) continue;
      // Prefix sums of squares and of spread values over this alignment.
      const squares = new Float64Array(count + 1);
      const usable = new Int32Array(count + 1);
      for (let i = 0; i < count; i++) {
        const offset = start + i * size;
        const v = size === 4 ? view.getFloat32(offset, littleEndian) : view.getFloat64(offset, littleEndian);
        // A value above SPREAD.max (or not finite) spoils every window it is in.
        const inRange = Number.isFinite(v) && Math.abs(v) <= SPREAD.max;
        squares[i + 1] = squares[i] + (inRange ? v * v : 4);
        usable[i + 1] = usable[i] + (inRange && Math.abs(v) >= SPREAD.min ? 1 : 0);
      }
      for (let i = 0; i + length <= count; i++) {
        // A few components of a real embedding may come close to 0.
        if (usable[i + length] - usable[i] < length - 8) continue;
        if (Math.abs(squares[i + length] - squares[i] - 1) < 0.02) return name;
      }
    }
  }
  return undefined;
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{600,}/g;
const HEX_RUN = /[0-9a-fA-F]{1000,}/g;

/** Binary blobs spelled out in `text` as long base64/base64url or hex runs. */
function encodedBlobs(text: string): { form: string; bytes: Uint8Array }[] {
  const blobs: { form: string; bytes: Uint8Array }[] = [];
  for (const [m] of text.matchAll(HEX_RUN)) {
    for (const shift of [0, 1]) blobs.push({ form: 'hex', bytes: Buffer.from(m.slice(shift, shift + ((m.length - shift) & ~1)), 'hex') });
  }
  for (const [m] of text.matchAll(BASE64_RUN)) {
    for (const shift of [0, 1, 2, 3]) blobs.push({ form: 'base64', bytes: Buffer.from(m.slice(shift).replace(/-/g, '+').replace(/_/g, '/'), 'base64') });
  }
  return blobs;
}

/** Every place in `haystacks` that holds a vector of `length` numbers, in text or in binary. */
export function findFloatVectors(haystacks: Iterable<Haystack>, length = EMBEDDING_LENGTH): Finding[] {
  const findings: Finding[] = [];
  for (const { where, text, bytes } of haystacks) {
    if (bytes) {
      const layout = unitVectorLayout(bytes, length);
      if (layout) findings.push({ where, form: layout });
    }
    if (text === undefined) continue;
    const run = longestNumberRun(text);
    if (run >= length) findings.push({ where, form: `${run} numbers in a row` });
    for (const blob of encodedBlobs(text)) {
      const layout = unitVectorLayout(blob.bytes, length);
      if (layout) {
        findings.push({ where, form: `${layout} in ${blob.form}` });
        break;
      }
    }
  }
  return findings;
}
