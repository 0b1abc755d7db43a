/**
 * The faster crop, resize, alignment, recognizer-input and detector-input code must give exactly the bytes of the code it replaced
 * (at 4973316: the digests pinned below), because the liveness and match thresholds were chosen
 * on those outputs. Real photos from ../shared/faces, boxes and landmarks drawn from a
 * seeded generator: small faces (Lanczos enlarge), large ones (area shrink, exact 2× shrink,
 * 4×4 alignment sub-samples), and faces at and across every border (clipping, reflection, black
 * samples outside the image).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { alignFace, arcfaceReference } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { writeDetectorInput } from '../../src/face/detect.ts';
import { faceTensorData, normalisationTable, type RecognizerInput } from '../../src/face/embed.ts';
import { facenoxCropImage, facenoxInput } from '../../src/face/liveness/facenoxCrop.ts';
import { hyperfasCropImage, hyperfasInput, hyperfasRect } from '../../src/face/liveness/hyperfasCrop.ts';
import { scaleCropImage, scaleCropInput } from '../../src/face/liveness/scaleCrop.ts';
import { resizeArea, resizeLanczos4, resizeLinear, rectWindow } from '../../src/face/liveness/resize.ts';
import type { Point, RgbImage } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

const photos = ['pad/vietmoney/live_1.jpg', 'pad/silentface/image_T1.jpg', 'pad/khanhngit-ssan/live_1.jpg', 'openface/eric_clapton_1.jpg', 'openface/amy_adams_1.jpg', 'pad/vietmoney/live_3.png'];
const load = (file: string) => decodeImage(new Uint8Array(readFileSync(`${FACES_DIR}/${file}`)));

/**
 * SHA-256 of every output of each test below, in the order made, as the code before the speed-ups
 * (4973316) made them — checked equal byte for byte against a copy of that code when these were
 * recorded. A changed byte anywhere changes the digest.
 */
const pinned: Record<string, string> = {
  'align openface/amy_adams_1.jpg': '32ccf5b22b47702a824831c8805767f24af1de19b42851cd40aba0a2fb510367',
  'align openface/eric_clapton_1.jpg': '9b33407c98963489af50c1fa1676195906c558b681adf737bf00099bc522c093',
  'align pad/khanhngit-ssan/live_1.jpg': '310c0290ca15585c782b18cbb9e646a2f67683a2bf8f858c703958297d41e630',
  'align pad/silentface/image_T1.jpg': '47f8a975c7926c52bf2ee6efc10fb8999abf961c2fe4d722dc0c6383757a9139',
  'align pad/vietmoney/live_1.jpg': 'd03a0f9a9f0d7fc644f158326c9430191e995f60c0dc52c7ffdc265da9a4e589',
  'align pad/vietmoney/live_3.png': 'f5d5423edd79d5c2b88258ffa8e83f43585a97c158d6157a925ff45227760dc5',
  'crops openface/amy_adams_1.jpg': '2542ec3f5f747f090d85a143ab044a47d1cbfd9e28f0dc182020db2a15892c1f',
  'crops openface/eric_clapton_1.jpg': '4152ddcbaed068357953c6893f61f48780ffa6c86d3115ec9f0eb49b4e555efe',
  'crops pad/khanhngit-ssan/live_1.jpg': 'ce634ca412d48d8d5481f5c7da9ce4bc1d902e44094b955e0b395011b09c17d0',
  'crops pad/silentface/image_T1.jpg': '372e027f0065fb5931a64387e5d40776ea8109dfbeb0a4307cb32d4aa38b3b87',
  'crops pad/vietmoney/live_1.jpg': '7065667556e092c0ae2727f419028e5f2db9be672a8b64ac4fca2613c2f9d7bb',
  'crops pad/vietmoney/live_3.png': 'bd3e5103136107b03841d555e3f71d1eb38a9dcadb9d216f5a7de61928d667f5',
  'detector': '532c091eccd7397e60a32bef0a1330cc94cb8511e227fd1fcfea7ccaf835ce45',
  'recognizer': 'eb13784ad239071b20554eed3b386ed2f4b0c2dd6c825eeb23fe5e096fc92621',
  'resize': '8b891a8fb8e3babd59de12548448ed8af68dd79fd8dda7e0757921ac0ea813bd',
};

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

const outputs = () => {
  const h = createHash('sha256');
  return { add: (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)), hex: () => h.digest('hex') };
};

for (const [p, file] of photos.entries()) {
  test(`liveness crops and model inputs are byte-identical to the replaced code: ${file}`, async () => {
    const image = await load(file);
    const d = outputs();
    for (const box of boxes(image, 40, 1000 + p)) {
      for (const scale of [2.7, 4]) {
        d.add(scaleCropInput(image, box, scale).data);
        d.add(scaleCropImage(image, box, scale).data);
      }
      d.add(facenoxInput(image, box).data);
      d.add(facenoxCropImage(image, box).data);
      const r = hyperfasRect(image.width, image.height, box);
      if (r.x2 > r.x1 && r.y2 > r.y1) {
        d.add(hyperfasInput(image, box).data);
        d.add(hyperfasCropImage(image, box).data);
      }
    }
    assert.equal(d.hex(), pinned[`crops ${file}`]);
  });
}

test('every resize kind and size ratio is byte-identical to the replaced code on a real photo', async () => {
  const image = await load(photos[0]);
  const d = outputs();
  const next = random(7);
  for (let i = 0; i < 60; i++) {
    const w = 1 + Math.floor(next() * 400);
    const h = 1 + Math.floor(next() * 400);
    const x = Math.floor(next() * (image.width - w));
    const y = Math.floor(next() * (image.height - h));
    // Targets from 1 px to 2.5× the window, and the exact 2× shrink that linear turns into area.
    const tw = i % 10 === 0 ? Math.max(1, w >> 1) : 1 + Math.floor(next() * w * 2.5);
    const th = i % 10 === 0 ? Math.max(1, h >> 1) : 1 + Math.floor(next() * h * 2.5);
    const now = rectWindow(image, x, y, w, h);
    d.add(resizeLinear(now, tw, th).data);
    d.add(resizeLanczos4(now, tw, th).data);
    if (tw <= w && th <= h) d.add(resizeArea(now, tw, th).data);
  }
  assert.equal(d.hex(), pinned['resize']);
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
    const d = outputs();
    for (const landmarks of landmarkSets(image, 30, 2000 + p)) {
      d.add(alignFace(image, landmarks).data);
    }
    assert.equal(d.hex(), pinned[`align ${file}`]);
  });
}

test('recognizer input tensors (face and mirror, RGB and BGR order) are byte-identical to the replaced code', async () => {
  const inputs: RecognizerInput[] = [
    { size: 112, color: 'RGB', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], flip: true },
    { size: 112, color: 'BGR', mean: [127.5, 127.5, 127.5], std: [128, 128, 128], flip: false },
  ];
  const d = outputs();
  for (const [p, file] of photos.entries()) {
    const image = await load(file);
    for (const landmarks of landmarkSets(image, 3, 3000 + p)) {
      const face = alignFace(image, landmarks);
      for (const input of inputs) {
        const table = normalisationTable(input);
        for (const mirrored of [false, true]) {
          d.add(faceTensorData(face, input, table, mirrored));
        }
      }
    }
  }
  assert.equal(d.hex(), pinned['recognizer']);
});

test('detector input planes (with padding to ×32 right and bottom, over a reused buffer) are identical to the replaced code', async () => {
  const d = outputs();
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
      writeDetectorInput(raw, w, h, padW, padH, now);
      d.add(now);
    }
  }
  assert.equal(d.hex(), pinned['detector']);
});
