/**
 * HyperFAS crop: columns [cx−r, cx+r) and rows [cy−r, cy+r) with r = ⌊0.6·max side⌋, clipped to the
 * image (to W−2 / H−2, as upstream slices), no padding, bilinear to 224×224, BGR (v−127.5)/127.5 NHWC.
 */
import type { RgbImage } from '../types.ts';
import { truncateBox, type ModelInput } from './modelInput.ts';
import { rectWindow, resizeLinear, resizeLinearRows, type ImageWindow, type RowSink } from './resize.ts';

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

/** The clipped rectangle as a window to resize. */
function hyperfasWindow(image: RgbImage, box: { x: number; y: number; w: number; h: number }): ImageWindow {
  const r = hyperfasRect(image.width, image.height, box);
  if (r.x2 <= r.x1 || r.y2 <= r.y1) throw new RangeError('face box lies outside the image');
  return rectWindow(image, r.x1, r.y1, r.x2 - r.x1, r.y2 - r.y1);
}

/** The 224×224 crop itself (RGB). */
export function hyperfasCropImage(image: RgbImage, box: { x: number; y: number; w: number; h: number }): RgbImage {
  return resizeLinear(hyperfasWindow(image, box), HYPERFAS_SIZE, HYPERFAS_SIZE);
}

/** (v − 127.5) / 127.5 for every byte value, computed once: the same numbers without a division per value. */
const scaled = Float32Array.from({ length: 256 }, (_, v) => (v - 127.5) / 127.5);

/** Crop rows into the model input: BGR, scaled to −1..1, NHWC. */
class HyperfasRows implements RowSink {
  data = new Float32Array(3 * HYPERFAS_SIZE * HYPERFAS_SIZE);
  row(values: Uint8Array, y: number): void {
    const data = this.data;
    for (let i = 0, o = y * HYPERFAS_SIZE * 3; i < HYPERFAS_SIZE * 3; i += 3, o += 3) {
      data[o] = scaled[values[i + 2]];
      data[o + 1] = scaled[values[i + 1]];
      data[o + 2] = scaled[values[i]];
    }
  }
}

/** Model input [1,224,224,3]: BGR, scaled to −1..1, written row by row as the resize makes the rows of the crop. */
export function hyperfasInput(image: RgbImage, box: { x: number; y: number; w: number; h: number }): ModelInput {
  const rows = new HyperfasRows();
  resizeLinearRows(hyperfasWindow(image, box), HYPERFAS_SIZE, HYPERFAS_SIZE, rows);
  return { data: rows.data, dims: [1, HYPERFAS_SIZE, HYPERFAS_SIZE, 3] };
}
