/**
 * facenox_98.20_128 crop: a square of side ⌊1.5·max(w,h)⌋ around the box centre, mirrored
 * (BORDER_REFLECT_101) where it leaves the image, resized to 128×128 (area averaging when
 * shrinking, Lanczos-4 when enlarging), RGB /255 NCHW — the convention the model was trained with.
 */
import type { RgbImage } from '../types.ts';
import { truncateBox, type ModelInput } from './modelInput.ts';
import { resizeAreaRows, resizeLanczos4Rows, resizeArea, resizeLanczos4, type ImageWindow, type RowSink } from './resize.ts';

export const FACENOX_SIZE = 128;

/** OpenCV BORDER_REFLECT_101: …, 2, 1 | 0, 1, 2, …, n−1 | n−2, … */
export function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  let j = i;
  while (j < 0 || j >= n) {
    if (j < 0) j = -j;
    if (j >= n) j = 2 * n - 2 - j;
  }
  return j;
}

/** Top-left corner and side of the square crop (may extend past the image). */
export function facenoxSquare(box: { x: number; y: number; w: number; h: number }): { x: number; y: number; side: number } {
  const b = truncateBox(box);
  if (b.w <= 0 || b.h <= 0) throw new RangeError('face box must have a positive size');
  const m = Math.max(b.w, b.h);
  const cx = b.x + b.w / 2;
  const cy = b.y + b.h / 2;
  return { x: Math.trunc(cx - 0.75 * m), y: Math.trunc(cy - 0.75 * m), side: Math.floor(1.5 * m) };
}

/** The square as a window that reads through reflected indices (a view, never copied out). */
function facenoxWindow(image: RgbImage, box: { x: number; y: number; w: number; h: number }): ImageWindow {
  const sq = facenoxSquare(box);
  const columns = new Int32Array(sq.side);
  const rows = new Int32Array(sq.side);
  for (let i = 0; i < sq.side; i++) {
    columns[i] = reflect101(sq.x + i, image.width);
    rows[i] = reflect101(sq.y + i, image.height);
  }
  return { image, columns, rows };
}

// ⌊1.5m⌋ is never exactly 128 for an integer m, so there is always a resize: area when shrinking, Lanczos-4 when enlarging.

/** The 128×128 crop itself (RGB). */
export function facenoxCropImage(image: RgbImage, box: { x: number; y: number; w: number; h: number }): RgbImage {
  const square = facenoxWindow(image, box);
  return square.columns.length > FACENOX_SIZE ? resizeArea(square, FACENOX_SIZE, FACENOX_SIZE) : resizeLanczos4(square, FACENOX_SIZE, FACENOX_SIZE);
}

/** v / 255 for every byte value, computed once: the same numbers without a division per value. */
const unit = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Crop rows into the model input: RGB planes scaled to 0..1. */
class FacenoxRows implements RowSink {
  data = new Float32Array(3 * FACENOX_SIZE * FACENOX_SIZE);
  row(values: Uint8Array, y: number): void {
    const data = this.data;
    const n = FACENOX_SIZE * FACENOX_SIZE;
    for (let x = 0, o = y * FACENOX_SIZE; x < FACENOX_SIZE; x++, o++) {
      data[o] = unit[values[3 * x]];
      data[n + o] = unit[values[3 * x + 1]];
      data[2 * n + o] = unit[values[3 * x + 2]];
    }
  }
}

/** Model input [1,3,128,128]: RGB planes scaled to 0..1, written row by row as the resize makes the rows of the crop. */
export function facenoxInput(image: RgbImage, box: { x: number; y: number; w: number; h: number }): ModelInput {
  const square = facenoxWindow(image, box);
  const rows = new FacenoxRows();
  if (square.columns.length > FACENOX_SIZE) resizeAreaRows(square, FACENOX_SIZE, FACENOX_SIZE, rows);
  else resizeLanczos4Rows(square, FACENOX_SIZE, FACENOX_SIZE, rows);
  return { data: rows.data, dims: [1, 3, FACENOX_SIZE, FACENOX_SIZE] };
}
