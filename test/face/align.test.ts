import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignFace, applySimilarity, arcfaceReference, invertSimilarity, umeyamaSimilarity, warpSimilarity, type Similarity } from '../../src/face/align.ts';
import type { Point, RgbImage } from '../../src/face/types.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

function similarity(angle: number, scale: number, tx: number, ty: number): Similarity {
  return { a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx, ty };
}

/** R = x, G = y (clamped to 0..255), B = 200: bilinear interpolation reproduces it exactly. */
function ramp(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 200], 3 * (y * width + x));
  return { data, width, height };
}

describe('umeyamaSimilarity', () => {
  it('recovers rotation, scale and translation exactly', () => {
    for (const t of [similarity(0.3, 1.7, 5, -3), similarity(-2.5, 0.2, 100, 40), similarity(Math.PI, 3, 0, 0), similarity(0, 1, 0, 0)]) {
      const moved = arcfaceReference.map((p) => applySimilarity(t, p));
      const got = umeyamaSimilarity(arcfaceReference, moved);
      close(got.a, t.a); close(got.b, t.b); close(got.tx, t.tx, 1e-7); close(got.ty, t.ty, 1e-7);
    }
  });

  it('maps detected landmarks onto the reference (inverse of the transform that made them)', () => {
    const t = similarity(0.4, 2.2, 300, 120);
    const landmarks = arcfaceReference.map((p) => applySimilarity(t, p));
    const back = umeyamaSimilarity(landmarks, arcfaceReference);
    const inv = invertSimilarity(t);
    close(back.a, inv.a); close(back.b, inv.b); close(back.tx, inv.tx, 1e-7); close(back.ty, inv.ty, 1e-7);
  });

  it('is the least-squares fit for noisy points (no other nearby similarity does better)', () => {
    const noisy: Point[] = arcfaceReference.map(([x, y], i) => [x * 1.1 + 3 + (i % 2 ? 0.7 : -0.4), y * 1.1 - 2 + (i % 3) * 0.5]);
    const t = umeyamaSimilarity(arcfaceReference, noisy);
    const err = (s: Similarity) => arcfaceReference.reduce((sum, p, i) => { const q = applySimilarity(s, p); return sum + (q[0] - noisy[i][0]) ** 2 + (q[1] - noisy[i][1]) ** 2; }, 0);
    const best = err(t);
    for (const d of [[1e-3, 0, 0, 0], [0, 1e-3, 0, 0], [0, 0, 1e-2, 0], [0, 0, 0, 1e-2]]) {
      for (const sign of [1, -1]) assert.ok(err({ a: t.a + sign * d[0], b: t.b + sign * d[1], tx: t.tx + sign * d[2], ty: t.ty + sign * d[3] }) > best);
    }
  });

  it('rejects degenerate input', () => {
    assert.throws(() => umeyamaSimilarity([[1, 1], [1, 1]], [[0, 0], [1, 1]]), RangeError);
    assert.throws(() => umeyamaSimilarity([[1, 1]], [[0, 0]]), RangeError);
  });
});

describe('warpSimilarity', () => {
  it('reproduces a linear ramp under rotation and translation', () => {
    const img = ramp(200, 200);
    const t = similarity(0.35, 1, -20, -60);
    const out = warpSimilarity(img, t, 112, 112);
    const inv = invertSimilarity(t);
    for (const [u, v] of [[10, 10], [56, 56], [100, 30], [5, 100]]) {
      const [x, y] = applySimilarity(inv, [u, v]);
      const o = 3 * (v * 112 + u);
      assert.ok(Math.abs(out.data[o] - x) <= 0.5 && Math.abs(out.data[o + 1] - y) <= 0.5, `(${u},${v})`);
      assert.equal(out.data[o + 2], 200);
    }
  });

  it('is the identity for the identity transform, and black outside the source', () => {
    const img = ramp(112, 112);
    assert.deepEqual(warpSimilarity(img, similarity(0, 1, 0, 0), 112, 112).data, img.data);
    const shifted = warpSimilarity(img, similarity(0, 1, 50, 0), 112, 112);
    assert.deepEqual([...shifted.data.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...shifted.data.subarray(3 * 60, 3 * 60 + 3)], [10, 0, 200]);
  });

  it('averages over the footprint when shrinking, keeping a ramp linear', () => {
    const img = ramp(256, 256);
    const t = similarity(0, 0.25, 0, 0);
    const out = warpSimilarity(img, t, 64, 64);
    for (const [u, v] of [[10, 20], [40, 50]]) {
      const o = 3 * (v * 64 + u);
      assert.ok(Math.abs(out.data[o] - 4 * u) <= 0.5 && Math.abs(out.data[o + 1] - 4 * v) <= 0.5);
    }
  });
});

describe('alignFace', () => {
  it('returns a 112×112 crop whose landmarks land on the reference', () => {
    const img = ramp(250, 250);
    const t = similarity(-0.2, 1.8, 20, 15);
    const landmarks = arcfaceReference.map((p) => applySimilarity(t, p)) as Point[];
    const face = alignFace(img, landmarks);
    assert.deepEqual([face.width, face.height], [112, 112]);
    // Reference pixel (38, 52) must show the source pixel at the detected right eye.
    const [x, y] = applySimilarity(t, [38, 52]);
    const o = 3 * (52 * 112 + 38);
    assert.ok(Math.abs(face.data[o] - x) <= 0.5 && Math.abs(face.data[o + 1] - y) <= 0.5);
  });
});
