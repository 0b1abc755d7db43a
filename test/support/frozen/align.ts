// Frozen copy of src/face/align.ts at 4973316, before the crop and warp speed work: the reference that
// test/face/fastCrops.test.ts compares the faster code with, byte for byte. Do not optimise it.
/**
 * 5-point face alignment to the ArcFace 112×112 template: the least-squares similarity transform
 * (Umeyama) from the detected landmarks to the reference points, then a bilinear warp. Pure.
 */
import type { Point, RgbImage } from '../../../src/face/types.ts';

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
 */
export function warpSimilarity(img: RgbImage, t: Similarity, width: number, height: number): RgbImage {
  const inv = invertSimilarity(t);
  const k = Math.min(4, Math.max(1, Math.ceil(Math.hypot(inv.a, inv.b) - 1e-9)));
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(width * height * 3);
  const kk = k * k;
  // Sub-sample offsets and the products that do not depend on u, computed once: each source
  // coordinate is still a·u − b·v + tx (resp. b·u + a·v + ty) in that order, so the result is
  // bit-identical to evaluating it per sample.
  const offset = new Float64Array(k);
  for (let i = 0; i < k; i++) offset[i] = (i + 0.5) / k;
  const bv = new Float64Array(k), av = new Float64Array(k);
  for (let v = 0; v < height; v++) {
    for (let j = 0; j < k; j++) {
      const vv = v + offset[j] - 0.5;
      bv[j] = inv.b * vv;
      av[j] = inv.a * vv;
    }
    for (let u = 0; u < width; u++) {
      let r = 0, g = 0, bl = 0;
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < k; i++) {
          const uu = u + offset[i] - 0.5;
          const x = inv.a * uu - bv[j] + inv.tx;
          const y = inv.b * uu + av[j] + inv.ty;
          const x0 = Math.floor(x), y0 = Math.floor(y);
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
            const fx = x - x0, fy = y - y0;
            const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
            const p = 3 * (y0 * w + x0), q = p + 3 * w;
            r += data[p] * w00 + data[p + 3] * w10 + data[q] * w01 + data[q + 3] * w11;
            g += data[p + 1] * w00 + data[p + 4] * w10 + data[q + 1] * w01 + data[q + 4] * w11;
            bl += data[p + 2] * w00 + data[p + 5] * w10 + data[q + 2] * w01 + data[q + 5] * w11;
          } else {
            r += sampleAtBorder(img, x, y, 0);
            g += sampleAtBorder(img, x, y, 1);
            bl += sampleAtBorder(img, x, y, 2);
          }
        }
      }
      const o = 3 * (v * width + u);
      out[o] = Math.round(r / kk); out[o + 1] = Math.round(g / kk); out[o + 2] = Math.round(bl / kk);
    }
  }
  return { data: out, width, height };
}

/** The face as a 112×112 ArcFace-aligned crop. */
export function alignFace(img: RgbImage, landmarks: readonly Point[]): RgbImage {
  return warpSimilarity(img, umeyamaSimilarity(landmarks, arcfaceReference), alignedSize, alignedSize);
}
