// Frozen copy of src/face/liveness/hyperfasCrop.ts at 4973316, before the crop and warp speed work: the reference that
// test/face/fastCrops.test.ts compares the faster code with, byte for byte. Do not optimise it.
/**
 * HyperFAS crop: columns [cx−r, cx+r) and rows [cy−r, cy+r) with r = ⌊0.6·max side⌋, clipped to the
 * image (to W−2 / H−2, as upstream slices), no padding, bilinear to 224×224, BGR (v−127.5)/127.5 NHWC.
 */
import type { RgbImage } from '../../../src/face/types.ts';
import { truncateBox, type ModelInput } from '../../../src/face/liveness/modelInput.ts';
import { rectWindow, resizeLinear } from './resize.ts';

export const HYPERFAS_SIZE = 224;

/** Half-open crop rectangle [x1, x2) × [y1, y2). */
export function hyperfasRect(
  width: number,
  height: number,
  box: { x: number; y: number; w: number; h: number },
): { x1: number; y1: number; x2: number; y2: number } {
  const b = truncateBox(box);
  if (b.w <= 0 || b.h <= 0) throw new RangeError('face box must have a positive size');
  const bx2 = b.x + b.w;
  const by2 = b.y + b.h;
  const r = Math.floor(0.6 * Math.max(b.w, b.h));
  const cx = Math.floor((b.x + bx2) / 2);
  const cy = Math.floor((b.y + by2) / 2);
  return {
    x1: Math.max(0, cx - r),
    y1: Math.max(0, cy - r),
    x2: Math.min(width - 2, cx + r),
    y2: Math.min(height - 2, cy + r),
  };
}

/** The 224×224 crop itself (RGB). */
export function hyperfasCropImage(image: RgbImage, box: { x: number; y: number; w: number; h: number }): RgbImage {
  const r = hyperfasRect(image.width, image.height, box);
  if (r.x2 <= r.x1 || r.y2 <= r.y1) throw new RangeError('face box lies outside the image');
  return resizeLinear(rectWindow(image, r.x1, r.y1, r.x2 - r.x1, r.y2 - r.y1), HYPERFAS_SIZE, HYPERFAS_SIZE);
}

/** (v − 127.5) / 127.5 for every byte value, computed once: the same numbers without a division per value. */
const scaled = Float32Array.from({ length: 256 }, (_, v) => (v - 127.5) / 127.5);

/** Model input [1,224,224,3]: BGR, scaled to −1..1. */
export function hyperfasInput(image: RgbImage, box: { x: number; y: number; w: number; h: number }): ModelInput {
  const crop = hyperfasCropImage(image, box);
  const n = HYPERFAS_SIZE * HYPERFAS_SIZE;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    data[i * 3] = scaled[crop.data[i * 3 + 2]];
    data[i * 3 + 1] = scaled[crop.data[i * 3 + 1]];
    data[i * 3 + 2] = scaled[crop.data[i * 3]];
  }
  return { data, dims: [1, HYPERFAS_SIZE, HYPERFAS_SIZE, 3] };
}
