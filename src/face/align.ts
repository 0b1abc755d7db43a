/**
 * 5-point face alignment to the ArcFace 112×112 template: the least-squares similarity transform
 * (Umeyama) from the detected landmarks to the reference points, then a bilinear warp. Pure.
 */
import type { Point, RgbImage } from './types.ts';

/** ArcFace reference landmarks for a 112×112 crop, in the detector's order. */
export const arcfaceReference: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

export const alignedSize = 112;

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty: rotation by atan2(b, a), scale √(a²+b²). */
export type Similarity = { a: number; b: number; tx: number; ty: number };

/**
 * Umeyama's least-squares similarity (no reflection) mapping `src` onto `dst`. In 2-D the SVD
 * of the cross-covariance reduces to these sums, giving the same rotation, scale and translation.
 */
export function umeyamaSimilarity(src: readonly Point[], dst: readonly Point[]): Similarity {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new RangeError('need at least 2 point pairs of equal count');
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const x = src[i][0] - sx, y = src[i][1] - sy;
    const u = dst[i][0] - dx, v = dst[i][1] - dy;
    dot += x * u + y * v;
    cross += x * v - y * u;
    norm += x * x + y * y;
  }
  if (norm === 0) throw new RangeError('source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(t: Similarity, [x, y]: Point): Point {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d, b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Bilinear sample of channel c at (x, y) near or outside the border; outside counts as black, as cv2.warpAffine does. */
function sampleAtBorder(img: RgbImage, x: number, y: number, c: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height ? 0 : img.data[3 * (yy * img.width + xx) + c]);
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

/**
 * Output pixel (u, v) takes the source at t⁻¹(u, v) (integer pixel centres, like cv2.warpAffine).
 * When the transform shrinks, each output pixel averages k×k bilinear samples over its footprint
 * so a large face is not aliased into the 112×112 crop.
 *
 * Each source coordinate is still a·uu − b·vv + tx (resp. b·uu + a·vv + ty) with the same operands
 * in the same order as a per-sample evaluation, so the result is bit-identical; only the products
 * that do not change along a row (a·uu, b·uu per column and sub-sample) or across it (b·vv, a·vv)
 * are computed once. Rows whose samples all land inside the image skip the per-sample border
 * check (most rows: the face is rarely at the edge).
 */
export function warpSimilarity(img: RgbImage, t: Similarity, width: number, height: number): RgbImage {
  const inv = invertSimilarity(t);
  const k = Math.min(4, Math.max(1, Math.ceil(Math.hypot(inv.a, inv.b) - 1e-9)));
  const out = new Uint8Array(width * height * 3);
  const offset = new Float64Array(k);
  for (let i = 0; i < k; i++) offset[i] = (i + 0.5) / k;
  // Column terms, per column u and sub-sample i at index u·k + i.
  const au = new Float64Array(width * k), bu = new Float64Array(width * k);
  for (let u = 0; u < width; u++) {
    for (let i = 0; i < k; i++) {
      const uu = u + offset[i] - 0.5;
      au[u * k + i] = inv.a * uu;
      bu[u * k + i] = inv.b * uu;
    }
  }
  const bv = new Float64Array(k), av = new Float64Array(k);
  for (let v = 0; v < height; v++) {
    for (let j = 0; j < k; j++) {
      const vv = v + offset[j] - 0.5;
      bv[j] = inv.b * vv;
      av[j] = inv.a * vv;
    }
    if (rowInside(img, inv, au, bu, bv, av, width * k)) warpRowInside(img, inv, k, au, bu, bv, av, width, out, 3 * v * width);
    else warpRowAtBorder(img, inv, k, au, bu, bv, av, width, out, 3 * v * width);
  }
  return { data: out, width, height };
}

/**
 * Whether every sample of the row has its 2×2 neighbourhood inside the image. Along a row the
 * coordinates are affine in the column, so they lie between those of the first and last column;
 * a margin of 10⁻⁶ px covers the rounding of the per-sample evaluation (≪ 10⁻⁹ px here).
 */
function rowInside(img: RgbImage, inv: Similarity, au: Float64Array, bu: Float64Array, bv: Float64Array, av: Float64Array, n: number): boolean {
  const margin = 1e-6;
  for (let j = 0; j < bv.length; j++) {
    for (const c of [0, n - 1]) {
      const x = au[c] - bv[j] + inv.tx;
      const y = bu[c] + av[j] + inv.ty;
      if (!(x >= margin && y >= margin && x < img.width - 1 - margin && y < img.height - 1 - margin)) return false;
    }
  }
  return true;
}

function warpRowInside(img: RgbImage, inv: Similarity, k: number, au: Float64Array, bu: Float64Array, bv: Float64Array, av: Float64Array, width: number, out: Uint8Array, o: number): void {
  const { width: w, data } = img;
  const { tx, ty } = inv;
  const kk = k * k;
  for (let u = 0; u < width; u++, o += 3) {
    let r = 0, g = 0, bl = 0;
    for (let j = 0; j < k; j++) {
      const bvj = bv[j], avj = av[j];
      for (let i = u * k, end = i + k; i < end; i++) {
        const x = au[i] - bvj + tx;
        const y = bu[i] + avj + ty;
        // x, y > 0 here, so truncation is floor, and the indices are small integers (int32 arithmetic).
        const x0 = x | 0, y0 = y | 0;
        const fx = x - x0, fy = y - y0;
        const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        const p = 3 * (y0 * w + x0), q = p + 3 * w;
        r += data[p] * w00 + data[p + 3] * w10 + data[q] * w01 + data[q + 3] * w11;
        g += data[p + 1] * w00 + data[p + 4] * w10 + data[q + 1] * w01 + data[q + 4] * w11;
        bl += data[p + 2] * w00 + data[p + 5] * w10 + data[q + 2] * w01 + data[q + 5] * w11;
      }
    }
    out[o] = Math.round(r / kk); out[o + 1] = Math.round(g / kk); out[o + 2] = Math.round(bl / kk);
  }
}

/**
 * A row that reaches the border: per sample, the inside case as above (floor(x) ≥ 0 and
 * floor(x) + 1 < w are x ≥ 0 and x < w − 1); a finite sample with all four neighbours outside
 * adds exactly +0 (0 · weights in [0, 1]), so it is skipped; the rest (one to three neighbours
 * inside, or a non-finite coordinate) goes through sampleAtBorder as before.
 */
function warpRowAtBorder(img: RgbImage, inv: Similarity, k: number, au: Float64Array, bu: Float64Array, bv: Float64Array, av: Float64Array, width: number, out: Uint8Array, o: number): void {
  const { width: w, height: h, data } = img;
  const { tx, ty } = inv;
  const kk = k * k;
  for (let u = 0; u < width; u++, o += 3) {
    let r = 0, g = 0, bl = 0;
    for (let j = 0; j < k; j++) {
      const bvj = bv[j], avj = av[j];
      for (let i = u * k, end = i + k; i < end; i++) {
        const x = au[i] - bvj + tx;
        const y = bu[i] + avj + ty;
        if (x >= 0 && y >= 0 && x < w - 1 && y < h - 1) {
          const x0 = x | 0, y0 = y | 0;
          const fx = x - x0, fy = y - y0;
          const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
          const p = 3 * (y0 * w + x0), q = p + 3 * w;
          r += data[p] * w00 + data[p + 3] * w10 + data[q] * w01 + data[q + 3] * w11;
          g += data[p + 1] * w00 + data[p + 4] * w10 + data[q + 1] * w01 + data[q + 4] * w11;
          bl += data[p + 2] * w00 + data[p + 5] * w10 + data[q + 2] * w01 + data[q + 5] * w11;
        } else if ((x < -1 || y < -1 || x >= w || y >= h) && x - x === 0 && y - y === 0) {
          continue;
        } else {
          r += sampleAtBorder(img, x, y, 0);
          g += sampleAtBorder(img, x, y, 1);
          bl += sampleAtBorder(img, x, y, 2);
        }
      }
    }
    out[o] = Math.round(r / kk); out[o + 1] = Math.round(g / kk); out[o + 2] = Math.round(bl / kk);
  }
}

/** The face as a 112×112 ArcFace-aligned crop. */
export function alignFace(img: RgbImage, landmarks: readonly Point[]): RgbImage {
  return warpSimilarity(img, umeyamaSimilarity(landmarks, arcfaceReference), alignedSize, alignedSize);
}
