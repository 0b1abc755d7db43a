// Frozen copy of src/face/liveness/resize.ts at 4973316, before the crop and warp speed work: the reference that
// test/face/fastCrops.test.ts compares the faster code with, byte for byte. Do not optimise it.
/**
 * Image resizing with OpenCV's `cv2.resize` semantics (pixel-centre convention, edge replication),
 * because the liveness models were trained on crops resized that way and are sensitive to it.
 * Linear and Lanczos-4 follow OpenCV's 8-bit fixed-point arithmetic; area averaging is computed in
 * floating point as OpenCV does. Checked against cv2 4.6 on random images (see the tests).
 */
import type { RgbImage } from '../../../src/face/types.ts';

/** One output coordinate as a weighted sum of source indices along one axis. */
interface AxisTaps {
  index: Int32Array; // taps × out
  weight: Float64Array;
  taps: number;
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
function linearTaps(src: number, dst: number): AxisTaps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst * 2);
  const weight = new Float64Array(dst * 2);
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
function verticalLinearTaps(src: number, dst: number): AxisTaps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst * 2);
  const weight = new Float64Array(dst * 2);
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
function areaTaps(src: number, dst: number): AxisTaps {
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
  rows.forEach((row, d) => {
    row.forEach(([s, w], k) => {
      index[d * taps + k] = s;
      weight[d * taps + k] = w;
    });
  });
  return { index, weight, taps };
}

/** INTER_LANCZOS4 taps: 8-tap windowed sinc around floor(x), normalised, edge replicated. */
function lanczos4Taps(src: number, dst: number): AxisTaps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst * 8);
  const weight = new Float64Array(dst * 8);
  for (let d = 0; d < dst; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    const x = Math.fround(f - s);
    let sum = 0;
    for (let i = 0; i < 8; i++) {
      const t = x + 3 - i;
      const w = Math.abs(t) < 1e-7 ? 1 : (4 * Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / 4)) / (Math.PI * Math.PI * t * t);
      index[d * 8 + i] = clampIndex(s - 3 + i, src);
      weight[d * 8 + i] = w;
      sum += w;
    }
    for (let i = 0; i < 8; i++) weight[d * 8 + i] = fixedCoefficient(weight[d * 8 + i] / sum);
  }
  return { index, weight, taps: 8 };
}

/** Source rows that some output row reads with a non-zero weight: only those need the horizontal pass. */
function rowsUsed(sourceHeight: number, ys: AxisTaps): Uint8Array {
  const used = new Uint8Array(sourceHeight);
  for (let i = 0; i < ys.index.length; i++) if (ys.weight[i] !== 0) used[ys.index[i]] = 1;
  return used;
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
 * Scratch for the horizontal pass, grown as needed and reused by every resize on this thread:
 * a fresh megabyte per crop was most of the resize's cost under load (allocation, zeroing, GC).
 * Rows the vertical pass reads are always written first, so stale contents are never read.
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

/** Horizontal pass of every used window row into `mid` (width × 3 values per row). */
function horizontalPass(win: ImageWindow, width: number, xs: AxisTaps, used: Uint8Array, mid: Float64Array | Int32Array): void {
  const rowLen = width * 3;
  const src = win.image.data;
  const srcCol = new Int32Array(xs.index.length);
  for (let k = 0; k < srcCol.length; k++) srcCol[k] = win.columns[xs.index[k]] * 3;
  for (let y = 0; y < win.rows.length; y++) {
    if (!used[y]) continue;
    const rowIn = win.rows[y] * win.image.width * 3;
    const rowOut = y * rowLen;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = x * xs.taps, end = k + xs.taps; k < end; k++) {
        const w = xs.weight[k];
        const p = rowIn + srcCol[k];
        r += src[p] * w;
        g += src[p + 1] * w;
        b += src[p + 2] * w;
      }
      mid[rowOut + x * 3] = r;
      mid[rowOut + x * 3 + 1] = g;
      mid[rowOut + x * 3 + 2] = b;
    }
  }
}

function separable(win: ImageWindow, width: number, height: number, xs: AxisTaps, ys: AxisTaps): RgbImage {
  // Horizontal pass into floats, then vertical pass with rounding once at the end. The vertical
  // sums run tap by tap over a whole row: the same additions in the same order per value as a
  // per-value loop over taps, so the result is bit-identical.
  const rowLen = width * 3;
  const mid = floatScratch(win.rows.length * rowLen + rowLen);
  const acc = mid.subarray(win.rows.length * rowLen);
  horizontalPass(win, width, xs, rowsUsed(win.rows.length, ys), mid);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = y * ys.taps, end = k + ys.taps; k < end; k++) {
      const w = ys.weight[k];
      if (w === 0) continue;
      const row = ys.index[k] * rowLen;
      for (let c = 0; c < rowLen; c++) acc[c] += mid[row + c] * w;
    }
    const o = y * rowLen;
    for (let c = 0; c < rowLen; c++) {
      const v = Math.round(acc[c]);
      out[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { data: out, width, height };
}

/**
 * OpenCV's 8-bit path for fixed-point taps (weights scaled by 2048): integer horizontal sums, then
 * the vertical combination and rounding of its SIMD kernel for linear, (Σ + 2²¹) >> 22 otherwise.
 */
function separableFixed(win: ImageWindow, width: number, height: number, xs: AxisTaps, ys: AxisTaps, simdLinear: boolean): RgbImage {
  const rowLen = width * 3;
  const mid = intScratch(win.rows.length * rowLen);
  horizontalPass(win, width, xs, rowsUsed(win.rows.length, ys), mid);
  const out = new Uint8Array(height * rowLen);
  const acc = simdLinear ? null : floatScratch(rowLen);
  for (let y = 0; y < height; y++) {
    const o = y * rowLen;
    if (simdLinear) {
      // v_mul_hi(sat16(row >> 4), β) per row, summed, then a rounding shift by 2
      const r0 = ys.index[y * 2] * rowLen;
      const r1 = ys.index[y * 2 + 1] * rowLen;
      const b0 = ys.weight[y * 2];
      const b1 = ys.weight[y * 2 + 1];
      for (let i = 0; i < rowLen; i++) {
        const a0 = Math.max(-32768, Math.min(32767, mid[r0 + i] >> 4));
        const a1 = Math.max(-32768, Math.min(32767, mid[r1 + i] >> 4));
        const v = (((a0 * b0) >> 16) + ((a1 * b1) >> 16) + 2) >> 2;
        out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    } else {
      // Integer sums (exact in doubles), taken tap by tap over the whole row.
      const sum = acc as Float64Array;
      sum.fill(0, 0, rowLen);
      for (let k = y * ys.taps, end = k + ys.taps; k < end; k++) {
        const w = ys.weight[k];
        const row = ys.index[k] * rowLen;
        for (let i = 0; i < rowLen; i++) sum[i] += mid[row + i] * w;
      }
      for (let i = 0; i < rowLen; i++) {
        const v = Math.floor((sum[i] + 2 ** 21) / 2 ** 22);
        out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { data: out, width, height };
}

function checkSizes(win: ImageWindow, width: number, height: number): void {
  if (win.columns.length < 1 || win.rows.length < 1 || width < 1 || height < 1) {
    throw new RangeError('resize needs non-empty source and target sizes');
  }
}

/** `cv2.resize(..., INTER_LINEAR)`, including OpenCV's switch to area averaging for an exact 2× shrink. */
export function resizeLinear(source: RgbImage | ImageWindow, width: number, height: number): RgbImage {
  const win = asWindow(source);
  checkSizes(win, width, height);
  const [w, h] = [win.columns.length, win.rows.length];
  if (w === width * 2 && h === height * 2) return resizeArea(win, width, height);
  return separableFixed(win, width, height, linearTaps(w, width), verticalLinearTaps(h, height), true);
}

/** `cv2.resize(..., INTER_AREA)` for shrinking; OpenCV blends in bilinear weights when enlarging, which is not needed here. */
export function resizeArea(source: RgbImage | ImageWindow, width: number, height: number): RgbImage {
  const win = asWindow(source);
  checkSizes(win, width, height);
  const [w, h] = [win.columns.length, win.rows.length];
  if (width > w || height > h) throw new RangeError('resizeArea only shrinks');
  return separable(win, width, height, areaTaps(w, width), areaTaps(h, height));
}

/** `cv2.resize(..., INTER_LANCZOS4)`. */
export function resizeLanczos4(source: RgbImage | ImageWindow, width: number, height: number): RgbImage {
  const win = asWindow(source);
  checkSizes(win, width, height);
  return separableFixed(win, width, height, lanczos4Taps(win.columns.length, width), lanczos4Taps(win.rows.length, height), false);
}
