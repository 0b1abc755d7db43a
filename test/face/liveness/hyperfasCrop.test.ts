import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RgbImage } from '../../../src/face/types.ts';
import { hyperfasCropImage, hyperfasInput, hyperfasRect } from '../../../src/face/liveness/hyperfasCrop.ts';

function coordinates(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 0], (y * width + x) * 3);
  return { data, width, height };
}

test('rect is r = ⌊0.6·max side⌋ around the integer centre', () => {
  // box 100..150 × 80..150: r = ⌊0.6·70⌋ = 42, centre (125, 115)
  assert.deepEqual(hyperfasRect(640, 480, { x: 100, y: 80, w: 50, h: 70 }), { x1: 83, y1: 73, x2: 167, y2: 157 });
});

test('rect is clipped to 0 and to W−2 / H−2 without padding', () => {
  assert.deepEqual(hyperfasRect(200, 100, { x: 150, y: 0, w: 50, h: 50 }), { x1: 145, y1: 0, x2: 198, y2: 55 });
});

test('crop is resized straight to 224×224 from the clipped, non-square rect', () => {
  const crop = hyperfasCropImage(coordinates(200, 100), { x: 150, y: 0, w: 50, h: 50 });
  assert.equal(crop.width, 224);
  assert.equal(crop.height, 224);
  // columns 145..197, rows 0..54
  assert.equal(crop.data[0], 145);
  assert.equal(crop.data[(223 * 224 + 223) * 3], 197);
  assert.equal(crop.data[(223 * 224 + 223) * 3 + 1], 54);
});

test('input is BGR, (v−127.5)/127.5, NHWC', () => {
  const data = new Uint8Array(60 * 60 * 3);
  for (let i = 0; i < 3600; i++) data.set([255, 127.5 as number, 0], i * 3);
  const input = hyperfasInput({ data, width: 60, height: 60 }, { x: 20, y: 20, w: 20, h: 20 });
  assert.deepEqual(input.dims, [1, 224, 224, 3]);
  assert.equal(input.data[0], -1);
  assert.equal(input.data[2], 1);
});
