import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../../../src/face/types.ts';
import { cropRect, resizeArea, resizeLanczos4, resizeLinear } from '../../../src/face/liveness/resize.ts';

/** Grey image from a row-major list of values (R = G = B). */
function grey(width: number, height: number, values: number[]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  values.forEach((v, i) => data.fill(v, i * 3, i * 3 + 3));
  return { data, width, height };
}

function channel0(image: RgbImage): number[] {
  return Array.from({ length: image.width * image.height }, (_, i) => image.data[i * 3]);
}

test('linear enlarge matches cv2.resize pixel-centre values with edge clamping', () => {
  // cv2.resize(np.array([[0,255]],np.uint8),(4,1)) == [[0,64,191,255]]
  assert.deepEqual(channel0(resizeLinear(grey(2, 1, [0, 255]), 4, 1)), [0, 64, 191, 255]);
});

test('linear exact 2x shrink averages 2x2 blocks like OpenCV', () => {
  const img = grey(4, 2, [0, 10, 100, 120, 20, 30, 140, 160]);
  assert.deepEqual(channel0(resizeLinear(img, 2, 1)), [15, 130]);
});

test('linear shrink by a non-integer factor samples at pixel centres (no averaging)', () => {
  // 3 → 2: source x = (d+0.5)·1.5 − 0.5 = 0.25, 1.75
  const img = grey(3, 1, [0, 100, 200]);
  assert.deepEqual(channel0(resizeLinear(img, 2, 1)), [25, 175]);
});

test('area shrink weights partially covered cells (computeResizeAreaTab)', () => {
  const img = grey(3, 1, [0, 90, 180]);
  assert.deepEqual(channel0(resizeArea(img, 2, 1)), [30, 150]);
});

test('area shrink by an integer factor is the block mean', () => {
  const img = grey(6, 3, [0, 3, 6, 9, 12, 15, 0, 3, 6, 9, 12, 15, 0, 3, 6, 9, 12, 15]);
  assert.deepEqual(channel0(resizeArea(img, 2, 1)), [3, 12]);
});

test('lanczos4 keeps constants and is the identity at scale 1', () => {
  assert.deepEqual(channel0(resizeLanczos4(grey(3, 2, [77, 77, 77, 77, 77, 77]), 7, 5)), new Array(35).fill(77));
  const values = [0, 50, 200, 255, 10, 90];
  assert.deepEqual(channel0(resizeLanczos4(grey(3, 2, values), 3, 2)), values);
});

test('lanczos4 enlarging a step is symmetric', () => {
  const out = channel0(resizeLanczos4(grey(4, 1, [0, 0, 255, 255]), 8, 1));
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(out[i] + out[7 - i] - 255) <= 1, `pixel ${i}`);
  assert.ok(out[3] < 128 && out[4] > 128);
});

test('channels are resized independently', () => {
  const img: RgbImage = { data: new Uint8Array([255, 0, 10, 255, 0, 10]), width: 2, height: 1 };
  assert.deepEqual(Array.from(resizeLinear(img, 1, 1).data), [255, 0, 10]);
});

test('cropRect copies the requested rectangle', () => {
  const img = grey(3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(channel0(cropRect(img, 1, 1, 2, 2)), [5, 6, 8, 9]);
});

test('empty sizes are rejected', () => {
  assert.throws(() => resizeLinear(grey(1, 1, [0]), 0, 1), RangeError);
});
