import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boxShrink } from '../../src/face/boxShrink.ts';

/** The definition, one output value at a time. */
function reference(data: Uint8Array, w: number, h: number, k: number): Uint8Array {
  const ow = Math.floor(w / k), oh = Math.floor(h / k);
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) s += data[3 * ((y * k + dy) * w + x * k + dx) + c];
    out[3 * (y * ow + x) + c] = Math.floor(s / (k * k) + 0.5);
  }
  return out;
}

test('each output pixel is the rounded mean of its k×k block, for k = 1..4 and odd sizes', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (const [w, h] of [[640, 480], [37, 23], [5, 9]]) {
    const data = Uint8Array.from({ length: w * h * 3 }, rand);
    for (const k of [1, 2, 3, 4]) {
      if (w < k || h < k) continue;
      const r = boxShrink({ data, width: w, height: h }, k);
      assert.equal(r.width, Math.floor(w / k));
      assert.equal(r.height, Math.floor(h / k));
      assert.deepEqual(r.data, reference(data, w, h, k), `${w}×${h} / ${k}`);
    }
  }
});

test('rounds half up and keeps 0 and 255', () => {
  // A 2×2 block of 0, 0, 1, 1 has mean 0.5 → 1; all 255 stays 255.
  const data = new Uint8Array([0, 255, 0, 0, 255, 0, 1, 255, 0, 1, 255, 0]);
  assert.deepEqual([...boxShrink({ data, width: 2, height: 2 }, 2).data], [1, 255, 0]);
});

test('refuses a factor that is not a positive integer or larger than the image', () => {
  const img = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4 };
  assert.throws(() => boxShrink(img, 0), RangeError);
  assert.throws(() => boxShrink(img, 1.5), RangeError);
  assert.throws(() => boxShrink(img, 5), RangeError);
});
