/**
 * Image resizing with OpenCV's `cv2.resize` semantics (pixel-centre convention, edge replication),
 * because the liveness models were trained on crops resized that way and are sensitive to it.
 * Linear and Lanczos-4 follow OpenCV's 8-bit fixed-point arithmetic; area averaging is computed in
 * floating point as OpenCV does. Checked against cv2 4.6 on random images (see the tests).
 */
import type { RgbImage } from '../types.ts';

/**
 * One output coordinate as a weighted sum of source indices along one axis (taps × out). Fixed-point
 * taps (linear, Lanczos-4) carry integer weights, area taps real ones: separate types so every loop
 * below sees one array type and V8 keeps it monomorphic.
 */
interface FixedTaps {
  index: Int32Array;
  weight: Int32Array;
  taps: number;
}
interface AreaTaps {
  index: Int32Array;
  weight: Float64Array;
  taps: number;
  /** Taps in use per output coordinate; the rest of its `taps` slots are zero-weight padding. */
  count: Int32Array;
}

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** OpenCV's cvRound: round half to even. */
function cvRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** 8-bit fixed-point coefficient as OpenCV stores it: saturate_cast<short>(w · 2048). */
function fixedCoefficient(w: number): number {
  return cvRound(Math.fround(Math.fround(w) * 2048));
}

/** INTER_LINEAR taps: source x = (d + 0.5)·scale − 0.5 in single precision, clamped to the edge like OpenCV. */
function linearTaps(src: number, dst: number): FixedTaps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst * 2);
  const weight = new Int32Array(dst * 2);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s >= src - 1) {
      s = src - 1;
      f = 0;
    }
    index[d * 2] = s;
    index[d * 2 + 1] = clampIndex(s + 1, src);
    weight[d * 2] = fixedCoefficient(Math.fround(1 - f));
    weight[d * 2 + 1] = fixedCoefficient(f);
  }
  return { index, weight, taps: 2 };
}

/** Vertical INTER_LINEAR taps: OpenCV clamps the rows but, unlike columns, keeps the fraction. */
function verticalLinearTaps(src: number, dst: number): FixedTaps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst * 2);
  const weight = new Int32Array(dst * 2);
  for (let d = 0; d < dst; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    const x = Math.fround(f - s);
    index[d * 2] = clampIndex(s, src);
    index[d * 2 + 1] = clampIndex(s + 1, src);
    weight[d * 2] = fixedCoefficient(Math.fround(1 - x));
    weight[d * 2 + 1] = fixedCoefficient(x);
  }
  return { index, weight, taps: 2 };
}

/** INTER_AREA taps (OpenCV computeResizeAreaTab): each output pixel averages the source cells it covers. */
function areaTaps(src: number, dst: number): AreaTaps {
  const scale = src / dst;
  const rows: Array<Array<[number, number]>> = [];
  let taps = 0;
  for (let d = 0; d < dst; d++) {
    const fs1 = d * scale;
    const fs2 = fs1 + scale;
    const cell = Math.min(scale, src - fs1);
    let s1 = Math.ceil(fs1);
    let s2 = Math.floor(fs2);
    s2 = Math.min(s2, src - 1);
    s1 = Math.min(s1, s2);
    const row: Array<[number, number]> = [];
    if (s1 - fs1 > 1e-3) row.push([s1 - 1, (s1 - fs1) / cell]);
    for (let s = s1; s < s2; s++) row.push([s, 1 / cell]);
    if (fs2 - s2 > 1e-3) row.push([s2, Math.min(Math.min(fs2 - s2, 1), cell) / cell]);
    rows.push(row);
    taps = Math.max(taps, row.length);
  }
  const index = new Int32Array(dst * taps);
  const weight = new Float64Array(dst * taps);
  const count = new Int32Array(dst);
  rows.forEach((row, d) => {
    count[d] = row.length;
    row.forEach(([s, w], k) => {
      index[d * taps + k] = s;
      weight[d * taps + k] = w;
    });
  });
  return { index, weight, taps, count };
}

/** INTER_LANCZOS4 taps: 8-tap windowed sinc around floor(x), normalised, edge replicated. */
function lanczos4Taps(src: number, dst: number): FixedTaps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst * 8);
  const weight = new Int32Array(dst * 8);
  const raw = new Float64Array(8);
  for (let d = 0; d < dst; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    const x = Math.fround(f - s);
    let sum = 0;
    for (let i = 0; i < 8; i++) {
      const t = x + 3 - i;
      const w = Math.abs(t) < 1e-7 ? 1 : (4 * Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / 4)) / (Math.PI * Math.PI * t * t);
      index[d * 8 + i] = clampIndex(s - 3 + i, src);
      raw[i] = w;
      sum += w;
    }
    for (let i = 0; i < 8; i++) weight[d * 8 + i] = fixedCoefficient(raw[i] / sum);
  }
  return { index, weight, taps: 8 };
}

/**
 * A width × height view of an image: window pixel (x, y) is image pixel (columns[x], rows[y]). It lets
 * a crop, or a crop with mirrored borders, be resized without first copying it out.
 */
export interface ImageWindow {
  image: RgbImage;
  columns: Int32Array;
  rows: Int32Array;
}

/** The rectangle [x, x+w) × [y, y+h), which must lie inside the image. */
export function rectWindow(image: RgbImage, x: number, y: number, w: number, h: number): ImageWindow {
  if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > image.width || y + h > image.height) throw new RangeError('window outside the image');
  return { image, columns: indexRange(x, w), rows: indexRange(y, h) };
}

/** [start, start + n) as indices. */
function indexRange(start: number, n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = start + i;
  return a;
}

/**
 * Scratch for the horizontally resized rows, grown as needed and reused by every resize on this
 * thread: a fresh buffer per crop was most of the resize's cost under load (allocation, zeroing, GC).
 */
let scratchF64 = new Float64Array(0);
let scratchI32 = new Int32Array(0);
function floatScratch(n: number): Float64Array {
  if (scratchF64.length < n) scratchF64 = new Float64Array(n);
  return scratchF64;
}
function intScratch(n: number): Int32Array {
  if (scratchI32.length < n) scratchI32 = new Int32Array(n);
  return scratchI32;
}

function asWindow(source: RgbImage | ImageWindow): ImageWindow {
  return 'image' in source ? source : rectWindow(source, 0, 0, source.width, source.height);
}

/** Byte offset within a source row of every tap's column. */
function columnOffsets(win: ImageWindow, xs: FixedTaps | AreaTaps): Int32Array {
  const offsets = new Int32Array(xs.index.length);
  for (let k = 0; k < offsets.length; k++) offsets[k] = win.columns[xs.index[k]] * 3;
  return offsets;
}

/*
 * Rows are resized horizontally on demand into a ring of `slots` rows (a power of two at least the
 * vertical tap count): window row r lives in slot r mod slots. The rows one output row reads are
 * consecutive integers (clamped at the edges), so they never share a slot, and the tap windows move
 * down monotonically, so each row is computed once. The ring stays in cache, where a full
 * intermediate image (≈ 0.7 MB for HyperFAS) went to memory and back.
 *
 * There is one horizontal row function per weight and result type, and one for two taps, instead
 * of a generic loop over Float64Array | Int32Array (polymorphic, and a loop over taps for two).
 * Each value is still the same products added in the same tap order: bit-identical results.
 */

function ringSlots(taps: number): number {
  let n = 1;
  while (n < taps) n *= 2;
  return n;
}

/** Linear: two integer taps per output column; exact integer sums. */
function linearRow(src: Uint8Array, rowIn: number, col: Int32Array, weight: Int32Array, width: number, mid: Int32Array, o: number): void {
  for (let x = 0; x < width; x++, o += 3) {
    const p = rowIn + col[2 * x];
    const q = rowIn + col[2 * x + 1];
    const w0 = weight[2 * x];
    const w1 = weight[2 * x + 1];
    mid[o] = src[p] * w0 + src[q] * w1;
    mid[o + 1] = src[p + 1] * w0 + src[q + 1] * w1;
    mid[o + 2] = src[p + 2] * w0 + src[q + 2] * w1;
  }
}

/** Any number of integer taps (Lanczos-4: 8); exact integer sums. */
function fixedRow(src: Uint8Array, rowIn: number, col: Int32Array, weight: Int32Array, taps: number, width: number, mid: Int32Array, o: number): void {
  for (let x = 0; x < width; x++, o += 3) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (let k = x * taps, end = k + taps; k < end; k++) {
      const w = weight[k];
      const p = rowIn + col[k];
      r += src[p] * w;
      g += src[p + 1] * w;
      b += src[p + 2] * w;
    }
    mid[o] = r;
    mid[o + 1] = g;
    mid[o + 2] = b;
  }
}

/**
 * Area: real weights, summed in double precision in tap order. The zero-weight padding taps are
 * left out: each added +0 to a sum that is never −0, which changed nothing.
 */
function areaRow(src: Uint8Array, rowIn: number, col: Int32Array, xs: AreaTaps, width: number, mid: Float64Array, o: number): void {
  const { weight, taps, count } = xs;
  for (let x = 0; x < width; x++, o += 3) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (let k = x * taps, end = k + count[x]; k < end; k++) {
      const w = weight[k];
      const p = rowIn + col[k];
      r += src[p] * w;
      g += src[p + 1] * w;
      b += src[p + 2] * w;
    }
    mid[o] = r;
    mid[o + 1] = g;
    mid[o + 2] = b;
  }
}

/**
 * Area resize: horizontal sums in doubles, then per output value the vertical sum tap by tap over
 * the row (the same additions in the same order as a per-value loop), rounded once at the end.
 * Zero-weight taps (padding of shorter tap lists) are skipped, as before.
 */
function separableArea(win: ImageWindow, width: number, height: number, xs: AreaTaps, ys: AreaTaps, sink: RowSink): void {
  const rowLen = width * 3;
  const slots = ringSlots(ys.taps);
  const mid = floatScratch((slots + 1) * rowLen);
  const acc = mid.subarray(slots * rowLen, (slots + 1) * rowLen);
  const held = new Int32Array(slots).fill(-1);
  const src = win.image.data;
  const stride = win.image.width * 3;
  const col = columnOffsets(win, xs);
  const out = new Uint8Array(rowLen);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = y * ys.taps, end = k + ys.taps; k < end; k++) {
      const w = ys.weight[k];
      if (w === 0) continue;
      const r = ys.index[k];
      const row = (r & (slots - 1)) * rowLen;
      if (held[r & (slots - 1)] !== r) {
        areaRow(src, win.rows[r] * stride, col, xs, width, mid, row);
        held[r & (slots - 1)] = r;
      }
      addAreaRow(acc, mid, row, w, rowLen);
    }
    roundAreaRow(acc, out, rowLen);
    sink.row(out, y);
  }
}

/**
 * OpenCV's 8-bit linear path: integer horizontal sums (weights scaled by 2048), then its SIMD
 * vertical kernel: v_mul_hi(sat16(row >> 4), β) per row, summed, then a rounding shift by 2.
 * The products fit int32 (|row >> 4| ≤ 2¹⁵ after saturation, β ≤ 2048), so Math.imul is exact.
 */
function separableLinear(win: ImageWindow, width: number, height: number, xs: FixedTaps, ys: FixedTaps, sink: RowSink): void {
  const rowLen = width * 3;
  const mid = intScratch(2 * rowLen);
  const held = Int32Array.of(-1, -1);
  const src = win.image.data;
  const stride = win.image.width * 3;
  const col = columnOffsets(win, xs);
  const out = new Uint8Array(rowLen);
  for (let y = 0; y < height; y++) {
    const s0 = ys.index[y * 2];
    const s1 = ys.index[y * 2 + 1];
    if (held[s0 & 1] !== s0) {
      linearRow(src, win.rows[s0] * stride, col, xs.weight, width, mid, (s0 & 1) * rowLen);
      held[s0 & 1] = s0;
    }
    if (held[s1 & 1] !== s1) {
      linearRow(src, win.rows[s1] * stride, col, xs.weight, width, mid, (s1 & 1) * rowLen);
      held[s1 & 1] = s1;
    }
    linearColumnSums(mid, (s0 & 1) * rowLen, (s1 & 1) * rowLen, ys.weight[y * 2], ys.weight[y * 2 + 1], out, rowLen);
    sink.row(out, y);
  }
}

function linearColumnSums(mid: Int32Array, r0: number, r1: number, b0: number, b1: number, out: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let a0 = mid[r0 + i] >> 4;
    let a1 = mid[r1 + i] >> 4;
    a0 = a0 < -32768 ? -32768 : a0 > 32767 ? 32767 : a0;
    a1 = a1 < -32768 ? -32768 : a1 > 32767 ? 32767 : a1;
    const v = ((Math.imul(a0, b0) >> 16) + (Math.imul(a1, b1) >> 16) + 2) >> 2;
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** OpenCV's 8-bit path for other fixed-point taps (Lanczos-4): integer sums, then (Σ + 2²¹) >> 22. */
function separableFixed(win: ImageWindow, width: number, height: number, xs: FixedTaps, ys: FixedTaps, sink: RowSink): void {
  const rowLen = width * 3;
  const slots = ringSlots(ys.taps);
  const mid = intScratch(slots * rowLen);
  const sum = floatScratch(rowLen);
  const held = new Int32Array(slots).fill(-1);
  const src = win.image.data;
  const stride = win.image.width * 3;
  const col = columnOffsets(win, xs);
  const out = new Uint8Array(rowLen);
  for (let y = 0; y < height; y++) {
    // Integer sums (exact in doubles), taken tap by tap over the whole row.
    sum.fill(0, 0, rowLen);
    for (let k = y * ys.taps, end = k + ys.taps; k < end; k++) {
      const w = ys.weight[k];
      const r = ys.index[k];
      const row = (r & (slots - 1)) * rowLen;
      if (held[r & (slots - 1)] !== r) {
        fixedRow(src, win.rows[r] * stride, col, xs.weight, xs.taps, width, mid, row);
        held[r & (slots - 1)] = r;
      }
      addFixedRow(sum, mid, row, w, rowLen);
    }
    shiftFixedRow(sum, out, rowLen);
    sink.row(out, y);
  }
}

/*
 * The per-row loops of the vertical passes are functions of their own: a resize runs once per
 * frame, so V8 would otherwise optimise them by on-stack replacement inside the row loop, and
 * leaving such an inner loop deoptimised the whole function each time (361 deoptimisations of
 * the area resize in 3 iterations of bench/faceStages.ts, --trace-deopt).
 */

function addAreaRow(acc: Float64Array, mid: Float64Array, row: number, w: number, n: number): void {
  for (let c = 0; c < n; c++) acc[c] += mid[row + c] * w;
}

function roundAreaRow(acc: Float64Array, out: Uint8Array, n: number): void {
  for (let c = 0; c < n; c++) {
    const v = Math.round(acc[c]);
    out[c] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

function addFixedRow(sum: Float64Array, mid: Int32Array, row: number, w: number, n: number): void {
  for (let i = 0; i < n; i++) sum[i] += mid[row + i] * w;
}

function shiftFixedRow(sum: Float64Array, out: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = Math.floor((sum[i] + 2 ** 21) / 2 ** 22);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

function checkSizes(win: ImageWindow, width: number, height: number): void {
  if (win.columns.length < 1 || win.rows.length < 1 || width < 1 || height < 1) {
    throw new RangeError('resize needs non-empty source and target sizes');
  }
}

/**
 * Receives each output row (width × 3 bytes, RGB) in order; the row buffer is reused for the next
 * row. Model crops write their float tensor from it directly, without a whole intermediate image.
 * An object with a method rather than a closure made per call: each new closure was optimised
 * afresh (47 TurboFan compilations of one crop's closure in a 10-iteration pipeline run,
 * --trace-opt), and until then ran unoptimised; a class method is optimised once.
 */
export interface RowSink {
  row(values: Uint8Array, y: number): void;
}

/** Rows into an RGB image. */
class ImageRows implements RowSink {
  image: RgbImage;
  constructor(width: number, height: number) {
    this.image = { data: new Uint8Array(width * height * 3), width, height };
  }
  row(values: Uint8Array, y: number): void {
    this.image.data.set(values, y * this.image.width * 3);
  }
}

/** `cv2.resize(..., INTER_LINEAR)`, row by row, including OpenCV's switch to area averaging for an exact 2× shrink. */
export function resizeLinearRows(source: RgbImage | ImageWindow, width: number, height: number, sink: RowSink): void {
  const win = asWindow(source);
  checkSizes(win, width, height);
  const [w, h] = [win.columns.length, win.rows.length];
  if (w === width * 2 && h === height * 2) return resizeAreaRows(win, width, height, sink);
  separableLinear(win, width, height, linearTaps(w, width), verticalLinearTaps(h, height), sink);
}

/** `cv2.resize(..., INTER_AREA)` for shrinking, row by row; OpenCV blends in bilinear weights when enlarging, which is not needed here. */
export function resizeAreaRows(source: RgbImage | ImageWindow, width: number, height: number, sink: RowSink): void {
  const win = asWindow(source);
  checkSizes(win, width, height);
  const [w, h] = [win.columns.length, win.rows.length];
  if (width > w || height > h) throw new RangeError('resizeArea only shrinks');
  separableArea(win, width, height, areaTaps(w, width), areaTaps(h, height), sink);
}

/** `cv2.resize(..., INTER_LANCZOS4)`, row by row. */
export function resizeLanczos4Rows(source: RgbImage | ImageWindow, width: number, height: number, sink: RowSink): void {
  const win = asWindow(source);
  checkSizes(win, width, height);
  separableFixed(win, width, height, lanczos4Taps(win.columns.length, width), lanczos4Taps(win.rows.length, height), sink);
}

/** `cv2.resize(..., INTER_LINEAR)` as an image. */
export function resizeLinear(source: RgbImage | ImageWindow, width: number, height: number): RgbImage {
  const rows = new ImageRows(width, height);
  resizeLinearRows(source, width, height, rows);
  return rows.image;
}

/** `cv2.resize(..., INTER_AREA)` as an image. */
export function resizeArea(source: RgbImage | ImageWindow, width: number, height: number): RgbImage {
  const rows = new ImageRows(width, height);
  resizeAreaRows(source, width, height, rows);
  return rows.image;
}

/** `cv2.resize(..., INTER_LANCZOS4)` as an image. */
export function resizeLanczos4(source: RgbImage | ImageWindow, width: number, height: number): RgbImage {
  const rows = new ImageRows(width, height);
  resizeLanczos4Rows(source, width, height, rows);
  return rows.image;
}
