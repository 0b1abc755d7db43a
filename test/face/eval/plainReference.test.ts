import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { applySimilarity, arcfaceReference, umeyamaSimilarity, warpSimilarity, type Similarity } from '../../../src/face/align.ts';
import { decodeImage } from '../../../src/face/decode.ts';
import { detectFaces, mainPhotoFace } from '../../../src/face/detect.ts';
import { cosine, createRecognizer } from '../../../src/face/embed.ts';
import { loadManifest, openModelSession } from '../../../src/face/models.ts';
import { createPlainReference, flipSumEmbedding, PLAIN_LONG_SIDE, scaleToLongSide, warpBilinear, type PlainReference } from '../../../src/face/eval/plainReference.ts';
import type { RgbImage } from '../../../src/face/types.ts';
import { FACES_DIR } from '../../support/shared.ts';

/** Grey image from one value per pixel (R = G = B). */
function grey(width: number, height: number, value: (x: number, y: number) => number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(value(x, y), 3 * (y * width + x), 3 * (y * width + x) + 3);
  return { data, width, height };
}
const red = (img: RgbImage, x: number, y: number) => img.data[3 * (y * img.width + x)];
/** R = x, G = y, B = 200 (the align tests' ramp): bilinear sampling reproduces it exactly. */
const ramp = (width: number, height: number): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([x, y, 200], 3 * (y * width + x));
  return { data, width, height };
};
/** A bright column every 4th pixel: its area average is 63.75, any single sample 0 or 255 (or between). */
const stripes = (n: number) => grey(n, n, (x) => (x % 4 === 0 ? 255 : 0));

describe('scaleToLongSide', () => {
  it('brings the long side to 640 in one resize, enlarging or shrinking, aspect kept', () => {
    for (const [w, h, ew, eh] of [[1000, 500, 640, 320], [480, 1000, 307, 640], [150, 150, 640, 640], [640, 480, 640, 480]]) {
      const { image, ratioX, ratioY } = scaleToLongSide(grey(w, h, () => 9), PLAIN_LONG_SIDE);
      assert.deepEqual([image.width, image.height], [ew, eh], `${w}×${h}`);
      assert.equal(ratioX, w / ew);
      assert.equal(ratioY, h / eh);
    }
  });

  it('samples as cv2.resize INTER_LINEAR: pixel-centre geometry, edges clamped (hand-computed)', () => {
    // 2×1 → 4×2: source x = (d + ½)·½ − ½ = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const up = scaleToLongSide(grey(2, 1, (x) => [0, 100][x]), 4).image;
    assert.deepEqual([0, 1, 2, 3].map((x) => red(up, x, 0)), [0, 25, 75, 100]);
    assert.deepEqual([0, 1, 2, 3].map((x) => red(up, x, 1)), [0, 25, 75, 100]);
    // 4×4 → 2×2: each output pixel sits between four source pixels and takes their mean.
    const down = scaleToLongSide(grey(4, 4, (x, y) => 10 * x + 40 * y), 2).image;
    assert.deepEqual([red(down, 0, 0), red(down, 1, 0), red(down, 0, 1), red(down, 1, 1)], [25, 45, 105, 125]);
  });

  it('does not anti-alias: shrinking 4× takes two taps per axis, not the area mean', () => {
    // source x = 4d + 1.5: between columns 4d+1 and 4d+2, both dark; an area mean would be 64.
    const { image } = scaleToLongSide(stripes(256), 64);
    assert.equal(red(image, 10, 10), 0);
  });
});

describe('warpBilinear', () => {
  const sim = (angle: number, scale: number, tx: number, ty: number): Similarity => ({ a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx, ty });

  it('takes one bilinear sample at t⁻¹(u, v) (hand-computed), black outside the source', () => {
    const img = grey(2, 2, (x, y) => [[0, 100], [50, 250]][y][x]);
    // t shifts by −½: output (0, 0) samples the source at (½, ½), the mean of the four pixels.
    const out = warpBilinear(img, { a: 1, b: 0, tx: -0.5, ty: -0.5 }, 3, 3);
    assert.equal(red(out, 0, 0), 100);
    // output (1, 0) samples (1.5, 0.5): half of it lies outside, which counts as black.
    assert.equal(red(out, 1, 0), Math.round((100 + 250) / 4));
    assert.equal(red(out, 2, 2), 0);
  });

  it('equals the project warp where that one takes a single sample (no shrinking): the align tests\' ramp fixtures', () => {
    const img = ramp(250, 250);
    for (const t of [sim(0.35, 1, -20, -60), sim(-0.2, 1.8, 20, 15), sim(1.1, 1.3, -40, 90)]) {
      const ours = warpBilinear(img, t, 112, 112).data;
      const project = warpSimilarity(img, t, 112, 112).data;
      const worst = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - project[i])), 0);
      assert.ok(worst <= 1, `largest difference ${worst}`);
    }
    // alignFace's fixture through the reference's own steps: reference pixel (38, 52) shows the source at the detected right eye.
    const t = sim(-0.2, 1.8, 20, 15);
    const landmarks = arcfaceReference.map((p) => applySimilarity(t, p));
    const face = warpBilinear(img, umeyamaSimilarity(landmarks, arcfaceReference), 112, 112);
    const [x, y] = applySimilarity(t, [38, 52]);
    assert.ok(Math.abs(red(face, 38, 52) - x) <= 0.5 && Math.abs(face.data[3 * (52 * 112 + 38) + 1] - y) <= 0.5);
  });

  it('does not anti-alias when shrinking, unlike the project warp', () => {
    const shrink = sim(0, 0.25, 0, 0);
    // output (10, 10) samples source (40, 40): a bright column.
    assert.equal(red(warpBilinear(stripes(256), shrink, 64, 64), 10, 10), 255);
    assert.ok(Math.abs(red(warpSimilarity(stripes(256), shrink, 64, 64), 10, 10) - 64) <= 1);
  });
});

describe('the reference on real photos', () => {
  let reference: PlainReference;
  before(async () => {
    reference = await createPlainReference();
  });

  it('L2-normalises the sum of the face\'s and its mirror image\'s embeddings', async () => {
    const session = await openModelSession(loadManifest().defaults.recognizer);
    const data = new Uint8Array(112 * 112 * 3).map((_, i) => (i * 13) % 251);
    const mirrored = new Uint8Array(data.length);
    for (let y = 0; y < 112; y++) for (let x = 0; x < 112; x++) mirrored.set(data.subarray(3 * (y * 112 + x), 3 * (y * 112 + x) + 3), 3 * (y * 112 + 111 - x));
    const a = await flipSumEmbedding(session, { data, width: 112, height: 112 });
    const b = await flipSumEmbedding(session, { data: mirrored, width: 112, height: 112 });
    assert.equal(a.length, 128);
    assert.ok(Math.abs(cosine(a, a) - 1) < 1e-5);
    // face + mirror is the same sum either way round: the embedding ignores left–right.
    assert.ok(cosine(a, b) > 0.99999);
    // and it is the recognizer's upstream convention, which the project's default set-up also uses
    const project = await createRecognizer({ input: { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], color: 'RGB', flip: true } });
    assert.ok(cosine(a, await project.embed({ data, width: 112, height: 112 })) > 0.99999);
    const single = await createRecognizer({ input: { flip: false } });
    assert.ok(cosine(await single.embed({ data, width: 112, height: 112 }), await single.embed({ data: mirrored, width: 112, height: 112 })) < 0.9999);
  });

  it('sees a tight crop once, at 640 px: its landmarks are the single pass\'s, not the project\'s second pass', async () => {
    const image = await decodeImage(readFileSync(path.join(FACES_DIR, 'faceapi', 'kaley_cuoco_1.png')));
    const result = await reference.run(image);
    const { image: view, ratioX, ratioY } = scaleToLongSide(image, PLAIN_LONG_SIDE);
    const onePass = mainPhotoFace(await detectFaces(view, { inputSize: PLAIN_LONG_SIDE, maxFacePx: Infinity, scoreThreshold: 0.6 }), view).face;
    result.face.landmarks.forEach(([x, y], i) => {
      assert.ok(Math.abs(x - ((onePass.landmarks[i][0] + 0.5) * ratioX - 0.5)) < 1e-9 && Math.abs(y - ((onePass.landmarks[i][1] + 0.5) * ratioY - 0.5)) < 1e-9);
    });
    const project = mainPhotoFace(await detectFaces(image), image).face;
    const moved = Math.max(...project.landmarks.map(([x, y], i) => Math.hypot(x - result.face.landmarks[i][0], y - result.face.landmarks[i][1])));
    assert.ok(moved > 0.1, 'the project re-detects a face that fills the view; the reference does not');
    assert.deepEqual([result.aligned.width, result.aligned.height], [112, 112]);
  });

  it('matches the same person and tells two people apart on full photos', async () => {
    const embed = async (file: string) => (await reference.run(await decodeImage(readFileSync(path.join(FACES_DIR, file))))).embedding;
    const [a, b, c] = await Promise.all(['deepface/img1.jpg', 'deepface/img2.jpg', 'deepface/img3.jpg'].map(embed));
    assert.ok(cosine(a, b) > 0.5, `same person ${cosine(a, b)}`);
    assert.ok(cosine(a, c) < 0.3, `different people ${cosine(a, c)}`);
  });

  it('refuses a picture without a face with face.none', async () => {
    await assert.rejects(reference.run(grey(300, 200, (x, y) => (x * 3 + y) % 256)), { code: 'face.none' });
  });
});
