/**
 * Silent-Face crop (MiniFASNetV2, MiniFASNetV1SE, MobileFaceNetPv4): a box `scale` times the face,
 * shrunk so it fits, shifted back inside the image, resized to 80×80, BGR 0..255 NCHW — exactly as
 * upstream `CropImage._get_new_box` + `cv2.resize` do, because the models learned that framing.
 */
import type { RgbImage } from '../types.ts';
import { truncateBox, type ModelInput } from './modelInput.ts';
import { rectWindow, resizeLinear, resizeLinearRows, type ImageWindow, type RowSink } from './resize.ts';

export const SCALE_CROP_SIZE = 80;

/** Inclusive corners [x1, y1, x2, y2] of the crop, as upstream computes them. */
export function scaleCropBox(
  width: number,
  height: number,
  box: { x: number; y: number; w: number; h: number },
  scale: number,
): [number, number, number, number] {
  const b = truncateBox(box);
  if (b.w <= 0 || b.h <= 0) throw new RangeError('face box must have a positive size');
  const s = Math.min((height - 1) / b.h, (width - 1) / b.w, scale);
  const newW = b.w * s;
  const newH = b.h * s;
  const cx = b.w / 2 + b.x;
  const cy = b.h / 2 + b.y;
  let x1 = cx - newW / 2;
  let y1 = cy - newH / 2;
  let x2 = cx + newW / 2;
  let y2 = cy + newH / 2;
  if (x1 < 0) {
    x2 -= x1;
    x1 = 0;
  }
  if (y1 < 0) {
    y2 -= y1;
    y1 = 0;
  }
  if (x2 > width - 1) {
    x1 -= x2 - width + 1;
    x2 = width - 1;
  }
  if (y2 > height - 1) {
    y1 -= y2 - height + 1;
    y2 = height - 1;
  }
  return [Math.trunc(x1), Math.trunc(y1), Math.trunc(x2), Math.trunc(y2)];
}

/** The crop box as a window to resize. */
function scaleCropWindow(image: RgbImage, box: { x: number; y: number; w: number; h: number }, scale: number): ImageWindow {
  const [x1, y1, x2, y2] = scaleCropBox(image.width, image.height, box, scale);
  const x = Math.max(0, x1);
  const y = Math.max(0, y1);
  return rectWindow(image, x, y, x2 - x + 1, y2 - y + 1);
}

/** The 80×80 crop itself (RGB), for inspection and tests. */
export function scaleCropImage(image: RgbImage, box: { x: number; y: number; w: number; h: number }, scale: number): RgbImage {
  return resizeLinear(scaleCropWindow(image, box, scale), SCALE_CROP_SIZE, SCALE_CROP_SIZE);
}

/** Crop rows into the model input: BGR planes, raw 0..255. */
class ScaleCropRows implements RowSink {
  data = new Float32Array(3 * SCALE_CROP_SIZE * SCALE_CROP_SIZE);
  row(values: Uint8Array, y: number): void {
    const data = this.data;
    const n = SCALE_CROP_SIZE * SCALE_CROP_SIZE;
    for (let x = 0, o = y * SCALE_CROP_SIZE; x < SCALE_CROP_SIZE; x++, o++) {
      data[o] = values[3 * x + 2];
      data[n + o] = values[3 * x + 1];
      data[2 * n + o] = values[3 * x];
    }
  }
}

/** Model input [1,3,80,80]: BGR planes, raw 0..255 (the upstream ToTensor does not divide), written row by row from the resize. */
export function scaleCropInput(image: RgbImage, box: { x: number; y: number; w: number; h: number }, scale: number): ModelInput {
  const rows = new ScaleCropRows();
  resizeLinearRows(scaleCropWindow(image, box, scale), SCALE_CROP_SIZE, SCALE_CROP_SIZE, rows);
  return { data: rows.data, dims: [1, 3, SCALE_CROP_SIZE, SCALE_CROP_SIZE] };
}
