/**
 * The faster crop, resize, alignment, recognizer-input and detector-input code must give exactly the bytes of the code it replaced
 * (test/support/frozen: a copy of it at 4973316), because the liveness and match thresholds were
 * chosen on those outputs. Real photos from ../shared/faces, boxes and landmarks drawn from a
 * seeded generator: small faces (Lanczos enlarge), large ones (area shrink, exact 2× shrink,
 * 4×4 alignment sub-samples), and faces at and across every border (clipping, reflection, black
 * samples outside the image).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { alignFace, arcfaceReference } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { writeDetectorInput } from '../../src/face/detect.ts';
import { faceTensorData, normalisationTable, type RecognizerInput } from '../../src/face/embed.ts';
import { facenoxCropImage, facenoxInput } from '../../src/face/liveness/facenoxCrop.ts';
import { hyperfasCropImage, hyperfasInput } from '../../src/face/liveness/hyperfasCrop.ts';
import { scaleCropImage, scaleCropInput } from '../../src/face/liveness/scaleCrop.ts';
import { resizeArea, resizeLanczos4, resizeLinear, rectWindow } from '../../src/face/liveness/resize.ts';
import type { Point, RgbImage } from '../../src/face/types.ts';
import * as frozenAlign from '../support/frozen/align.ts';
import { writeDetectorInput as frozenDetectorInput } from '../support/frozen/detectorInput.ts';
import { toTensor as frozenToTensor } from '../support/frozen/embedTensor.ts';
import * as frozenFacenox from '../support/frozen/facenoxCrop.ts';
import * as frozenHyperfas from '../support/frozen/hyperfasCrop.ts';
import * as frozenResize from '../support/frozen/resize.ts';
import * as frozenScale from '../support/frozen/scaleCrop.ts';
import { FACES_DIR } from '../support/shared.ts';

const photos = ['pad/vietmoney/live_1.jpg', 'pad/silentface/image_T1.jpg', 'pad/khanhngit-ssan/live_1.jpg', 'openface/eric_clapton_1.jpg', 'openface/amy_adams_1.jpg', 'pad/vietmoney/live_3.png'];
const load = (file: string) => decodeImage(new Uint8Array(readFileSync(`${FACES_DIR}/${file}`)));

/** Deterministic uniform numbers in [0, 1) (a 32-bit LCG), so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Box = { x: number; y: number; w: number; h: number };

/** Face boxes from 20 px to 90 % of the shorter side, centred anywhere in the image, so some cross the border. */
function boxes(image: RgbImage, n: number, seed: number): Box[] {
  const next = random(seed);
  const shorter = Math.min(image.width, image.height);
  const out: Box[] = [];
  for (let i = 0; i < n; i++) {
    const w = 20 + next() * (0.9 * shorter - 20);
    const h = w * (0.9 + next() * 0.5);
    const cx = next() * image.width;
    const cy = next() * image.height;
    out.push({ x: cx - w / 2, y: cy - h / 2, w, h });
  }
  // Corners and edges exactly.
  out.push({ x: 0, y: 0, w: shorter / 3, h: shorter / 2.5 });
  out.push({ x: image.width - shorter / 3, y: image.height - shorter / 2.5, w: shorter / 3, h: shorter / 2.5 });
  out.push({ x: -10.5, y: image.height / 3, w: shorter / 4, h: shorter / 3 });
  return out;
}

const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

for (const [p, file] of photos.entries()) {
  test(`liveness crops and model inputs are byte-identical to the replaced code: ${file}`, async () => {
    const image = await load(file);
    for (const box of boxes(image, 40, 1000 + p)) {
      const what = `${file} box ${JSON.stringify(box)}`;
      for (const scale of [2.7, 4]) {
        assert.ok(same(scaleCropInput(image, box, scale).data, frozenScale.scaleCropInput(image, box, scale).data), `scale ${scale} ${what}`);
        assert.ok(same(scaleCropImage(image, box, scale).data, frozenScale.scaleCropImage(image, box, scale).data), `scale crop ${scale} ${what}`);
      }
      assert.ok(same(facenoxInput(image, box).data, frozenFacenox.facenoxInput(image, box).data), `facenox ${what}`);
      assert.ok(same(facenoxCropImage(image, box).data, frozenFacenox.facenoxCropImage(image, box).data), `facenox crop ${what}`);
      const r = frozenHyperfas.hyperfasRect(image.width, image.height, box);
      if (r.x2 > r.x1 && r.y2 > r.y1) {
        assert.ok(same(hyperfasInput(image, box).data, frozenHyperfas.hyperfasInput(image, box).data), `hyperfas ${what}`);
        assert.ok(same(hyperfasCropImage(image, box).data, frozenHyperfas.hyperfasCropImage(image, box).data), `hyperfas crop ${what}`);
      }
    }
  });
}

test('every resize kind and size ratio is byte-identical to the replaced code on a real photo', async () => {
  const image = await load(photos[0]);
  const next = random(7);
  for (let i = 0; i < 60; i++) {
    const w = 1 + Math.floor(next() * 400);
    const h = 1 + Math.floor(next() * 400);
    const x = Math.floor(next() * (image.width - w));
    const y = Math.floor(next() * (image.height - h));
    // Targets from 1 px to 2.5× the window, and the exact 2× shrink that linear turns into area.
    const tw = i % 10 === 0 ? Math.max(1, w >> 1) : 1 + Math.floor(next() * w * 2.5);
    const th = i % 10 === 0 ? Math.max(1, h >> 1) : 1 + Math.floor(next() * h * 2.5);
    const what = `${w}×${h} at ${x},${y} → ${tw}×${th}`;
    const now = rectWindow(image, x, y, w, h);
    const before = frozenResize.rectWindow(image, x, y, w, h);
    assert.ok(same(resizeLinear(now, tw, th).data, frozenResize.resizeLinear(before, tw, th).data), `linear ${what}`);
    assert.ok(same(resizeLanczos4(now, tw, th).data, frozenResize.resizeLanczos4(before, tw, th).data), `lanczos4 ${what}`);
    if (tw <= w && th <= h) assert.ok(same(resizeArea(now, tw, th).data, frozenResize.resizeArea(before, tw, th).data), `area ${what}`);
  }
});

/** The ArcFace template moved by a similarity: face width ≈ 112·scale px, so scale 1..4.5 covers 1 to 4 sub-samples per axis. */
function landmarkSets(image: RgbImage, n: number, seed: number): Point[][] {
  const next = random(seed);
  const out: Point[][] = [];
  for (let i = 0; i < n; i++) {
    const scale = 0.4 + next() * 4.1;
    const angle = (next() - 0.5) * 1.4;
    const [cx, cy] = [next() * image.width, next() * image.height];
    const [c, s] = [scale * Math.cos(angle), scale * Math.sin(angle)];
    out.push(arcfaceReference.map(([x, y]): Point => [c * (x - 56) - s * (y - 56) + cx, s * (x - 56) + c * (y - 56) + cy]));
  }
  return out;
}

for (const [p, file] of photos.entries()) {
  test(`aligned faces are byte-identical to the replaced warp: ${file}`, async () => {
    const image = await load(file);
    for (const landmarks of landmarkSets(image, 30, 2000 + p)) {
      assert.ok(same(alignFace(image, landmarks).data, frozenAlign.alignFace(image, landmarks).data), `${file} landmarks ${JSON.stringify(landmarks)}`);
    }
  });
}

test('recognizer input tensors (face and mirror, RGB and BGR order) are byte-identical to the replaced code', async () => {
  const inputs: RecognizerInput[] = [
    { size: 112, color: 'RGB', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], flip: true },
    { size: 112, color: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128], flip: false },
  ];
  for (const [p, file] of photos.entries()) {
    const image = await load(file);
    for (const landmarks of landmarkSets(image, 3, 3000 + p)) {
      const face = alignFace(image, landmarks);
      for (const input of inputs) {
        const table = normalisationTable(input);
        for (const mirrored of [false, true]) {
          const before = frozenToTensor(face, input, table, mirrored);
          assert.ok(same(faceTensorData(face, input, table, mirrored), before.data as Float32Array), `${file} ${input.color} mirrored ${mirrored}`);
          before.dispose();
        }
      }
    }
  }
});

test('detector input planes (with padding to ×32 right and bottom, over a reused buffer) are identical to the replaced code', async () => {
  for (const file of photos.slice(0, 3)) {
    const image = await load(file);
    const next = random(4000);
    // A camera frame (no padding), the first look's 320×240 (bottom padding), and odd sizes (both).
    for (const [w, h] of [[640, 480], [320, 240], [301, 199], [96, 70]]) {
      const x = Math.floor(next() * (image.width - w)), y = Math.floor(next() * (image.height - h));
      const raw = new Uint8Array(w * h * 3);
      for (let r = 0; r < h; r++) raw.set(image.data.subarray(3 * ((y + r) * image.width + x), 3 * ((y + r) * image.width + x + w)), 3 * r * w);
      const [padW, padH] = [Math.ceil(w / 32) * 32, Math.ceil(h / 32) * 32];
      // Spare buffers come back with the previous frame's values in them.
      const now = Float32Array.from({ length: 3 * padW * padH }, () => next() * 255);
      const before = Float32Array.from(now);
      writeDetectorInput(raw, w, h, padW, padH, now);
      frozenDetectorInput(raw, w, h, padW, padH, before);
      assert.ok(same(now, before), `${file} ${w}×${h} → ${padW}×${padH}`);
    }
  }
});
