import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../../../src/face/types.ts';
import { facenoxCropImage, facenoxInput, facenoxSquare, reflect101 } from '../../../src/face/liveness/facenoxCrop.ts';

/** R = x, G = y, B = 7: lets a test read back where each crop pixel came from. */
function coordinates(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  return { data, width, height };
}

test('reflect101 mirrors without repeating the edge pixel', () => {
  assert.deepEqual([-3, -2, -1, 0, 4, 5, 6, 7].map((i) => reflect101(i, 5)), [3, 2, 1, 0, 4, 3, 2, 1]);
  assert.equal(reflect101(-12, 5), 4); // reflects more than once
  assert.equal(reflect101(3, 1), 0);
});

test('square is ⌊1.5·max(w,h)⌋ around the centre, corner truncated toward zero', () => {
  // m = 60, centre (30, 50): corner (trunc(−15), trunc(5)), side 90
  assert.deepEqual(facenoxSquare({ x: 10, y: 20, w: 40, h: 60 }), { x: -15, y: 5, side: 90 });
  assert.deepEqual(facenoxSquare({ x: 10.7, y: 20.2, w: 40.9, h: 60.9 }), { x: -15, y: 5, side: 90 });
  // centre 85.5 − 128.25 = −42.75 → −42 (toward zero, not floor)
  assert.deepEqual(facenoxSquare({ x: 0, y: 0, w: 171, h: 171 }), { x: -42, y: -42, side: 256 });
});

test('outside the image is filled by reflection, shrink by area averaging', () => {
  // side 256 → 128: each output pixel is the mean of a 2×2 block of the reflected square
  const crop = facenoxCropImage(coordinates(200, 200), { x: 0, y: 0, w: 171, h: 171 });
  assert.equal(crop.width, 128);
  const px = (x: number, y: number, c: number) => crop.data[(y * 128 + x) * 3 + c];
  // square cols −42, −41 → source 42, 41 → 41.5
  assert.ok(Math.abs(px(0, 0, 0) - 41.5) <= 0.5);
  // square cols 212, 213 → reflect101 in 200 → 186, 185 → 185.5
  assert.ok(Math.abs(px(127, 0, 0) - 185.5) <= 0.5);
  assert.ok(Math.abs(px(0, 127, 1) - 185.5) <= 0.5);
  assert.equal(px(64, 64, 2), 7);
});

test('small faces are enlarged to 128×128 (Lanczos-4)', () => {
  const img = coordinates(100, 100);
  const crop = facenoxCropImage(img, { x: 40, y: 40, w: 20, h: 20 });
  assert.equal(crop.width, 128);
  assert.equal(crop.height, 128);
  // the square spans x 35..64, so the crop's R channel runs from ~35 to ~64, increasing
  const row = Array.from({ length: 128 }, (_, x) => crop.data[(64 * 128 + x) * 3]);
  assert.ok(row[0] >= 34 && row[0] <= 36);
  assert.ok(row[127] >= 63 && row[127] <= 65);
  for (let x = 1; x < 128; x++) assert.ok(row[x] >= row[x - 1] - 1);
});

test('input is RGB planes /255, NCHW', () => {
  const data = new Uint8Array(50 * 50 * 3);
  for (let i = 0; i < 2500; i++) data.set([255, 51, 0], i * 3);
  const input = facenoxInput({ data, width: 50, height: 50 }, { x: 10, y: 10, w: 30, h: 30 });
  const n = 128 * 128;
  assert.deepEqual(input.dims, [1, 3, 128, 128]);
  assert.equal(input.data[0], 1);
  assert.ok(Math.abs(input.data[n] - 0.2) < 1e-6);
  assert.equal(input.data[2 * n], 0);
});
