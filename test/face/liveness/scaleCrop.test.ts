import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../../../src/face/types.ts';
import { scaleCropBox, scaleCropImage, scaleCropInput } from '../../../src/face/liveness/scaleCrop.ts';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

test('box is scaled around the face centre', () => {
  // centre 125, half size 67.5 → [57.5, 192.5] truncated
  assert.deepEqual(scaleCropBox(640, 480, { x: 100, y: 100, w: 50, h: 50 }, 2.7), [57, 57, 192, 192]);
});

test('box crossing the top-left corner is shifted back inside', () => {
  assert.deepEqual(scaleCropBox(640, 480, { x: 0, y: 0, w: 50, h: 50 }, 2.7), [0, 0, 135, 135]);
});

test('box crossing the bottom-right corner is shifted back inside', () => {
  // centre (615, 455); half 67.5 → right 682.5 > 639 → shifted left by 43.5
  assert.deepEqual(scaleCropBox(640, 480, { x: 590, y: 430, w: 50, h: 50 }, 2.7), [504, 344, 639, 479]);
});

test('scale shrinks to fit when the face is large: s′ = min((H−1)/h, (W−1)/w, s)', () => {
  assert.deepEqual(scaleCropBox(100, 100, { x: 10, y: 10, w: 80, h: 80 }, 4), [0, 0, 99, 99]);
});

test('fractional detector boxes are truncated like upstream int()', () => {
  assert.deepEqual(
    scaleCropBox(640, 480, { x: 100.9, y: 100.7, w: 50.8, h: 50.2 }, 2.7),
    scaleCropBox(640, 480, { x: 100, y: 100, w: 50, h: 50 }, 2.7),
  );
});

test('crop is resized to 80×80 and takes pixels from the scaled box only', () => {
  // left half black, right half white; a box entirely in the white half gives a white crop
  const img = solid(200, 100, [0, 0, 0]);
  for (let y = 0; y < 100; y++) for (let x = 100; x < 200; x++) img.data.fill(255, (y * 200 + x) * 3, (y * 200 + x) * 3 + 3);
  const crop = scaleCropImage(img, { x: 140, y: 40, w: 20, h: 20 }, 2.7);
  assert.equal(crop.width, 80);
  assert.equal(crop.height, 80);
  assert.ok(crop.data.every((v) => v === 255));
});

test('input is BGR planes, raw 0..255, NCHW', () => {
  const input = scaleCropInput(solid(64, 64, [200, 100, 10]), { x: 20, y: 20, w: 20, h: 20 }, 2.7);
  assert.deepEqual(input.dims, [1, 3, 80, 80]);
  const n = 80 * 80;
  assert.equal(input.data[0], 10);
  assert.equal(input.data[n], 100);
  assert.equal(input.data[2 * n + n - 1], 200);
});

test('an empty box is rejected', () => {
  assert.throws(() => scaleCropBox(640, 480, { x: 0, y: 0, w: 0.5, h: 10 }, 2.7), RangeError);
});
