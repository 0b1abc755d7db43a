import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, InputError } from '../../src/errors.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { detectDominantFace, detectFaces, dominantFace, nonMaxSuppression } from '../../src/face/detect.ts';
import type { Detection } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

const faces = FACES_DIR;
const load = async (p: string) => decodeImage(readFileSync(`${faces}/${p}`));

function det(x: number, y: number, w: number, h: number, score = 0.9): Detection {
  const p = (fx: number, fy: number): [number, number] => [x + fx * w, y + fy * h];
  return { box: { x, y, w, h }, score, landmarks: [p(0.3, 0.4), p(0.7, 0.4), p(0.5, 0.6), p(0.35, 0.8), p(0.65, 0.8)] };
}

/** Landmarks a face can have: eyes level-ish above the nose above the mouth, image-left eye first, all in the box. */
function assertSaneLandmarks(d: Detection, label: string) {
  const [re, le, nose, rm, lm] = d.landmarks;
  const eyeDist = Math.hypot(le[0] - re[0], le[1] - re[1]);
  assert.ok(re[0] < le[0] && rm[0] < lm[0], `${label}: subject's right side is on the image left`);
  assert.ok(nose[1] > Math.max(re[1], le[1]) && Math.min(rm[1], lm[1]) > nose[1], `${label}: eyes above nose above mouth`);
  assert.ok(eyeDist > 0.25 * d.box.w && eyeDist < 0.7 * d.box.w, `${label}: eye distance ${eyeDist} vs box ${d.box.w}`);
  const { x, y, w, h } = d.box;
  for (const [px, py] of d.landmarks) assert.ok(px >= x - 0.1 * w && px <= x + 1.1 * w && py >= y - 0.1 * h && py <= y + 1.1 * h, `${label}: landmark in box`);
}

describe('nonMaxSuppression and dominantFace', () => {
  it('keeps the best of overlapping boxes and every separate one', () => {
    const kept = nonMaxSuppression([det(0, 0, 100, 100, 0.8), det(5, 5, 100, 100, 0.9), det(300, 0, 100, 100, 0.7)], 0.3);
    assert.deepEqual(kept.map((d) => d.score), [0.9, 0.7]);
  });

  it('picks the largest face, ignores a small background face, refuses comparable ones and none', () => {
    assert.equal(dominantFace([det(0, 0, 40, 40), det(100, 100, 200, 200)]).box.w, 200);
    assert.throws(() => dominantFace([det(0, 0, 150, 150), det(300, 0, 200, 200)]), (e: unknown) => e instanceof InputError && e.code === 'face.multiple');
    assert.throws(() => dominantFace([]), (e: unknown) => e instanceof InputError && e.code === 'face.none');
  });
});

describe('detectFaces (YuNet)', () => {
  it('finds both faces of couple.jpg, and the pipeline rule says face.multiple', async () => {
    const img = await load('deepface/couple.jpg');
    const all = await detectFaces(img);
    assert.equal(all.length, 2);
    for (const d of all) assertSaneLandmarks(d, 'couple');
    await assert.rejects(detectDominantFace(img), (e: unknown) => e instanceof InputError && e.code === 'face.multiple');
  });

  it('refuses a detector without YuNet outputs as a configuration error', async () => {
    const img = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64 };
    await assert.rejects(detectFaces(img, { model: 'det_500m.onnx' }), (e: unknown) => e instanceof ConfigError && /det_500m\.onnx/.test(e.message));
  });

  it('refuses a crowd (selfie-many-people.jpg) and a blank image', async () => {
    await assert.rejects(detectDominantFace(await load('deepface/selfie-many-people.jpg')), (e: unknown) => e instanceof InputError && e.code === 'face.multiple');
    const blank = { data: new Uint8Array(320 * 240 * 3).fill(128), width: 320, height: 240 };
    await assert.rejects(detectDominantFace(blank), (e: unknown) => e instanceof InputError && e.code === 'face.none');
  });

  for (const p of ['deepface/img1.jpg', 'face_recognition/barack_obama_1.jpg', 'openface/steve_carell_1.jpg', 'uniface/albert_einstein_1.png', 'faceapi/jim_parsons_1.png', 'face_recognition_js/simon_helberg_1.png', 'pad/silentface/image_T1.jpg']) {
    it(`finds one face with sane landmarks in ${p}`, async () => {
      const img = await load(p);
      const d = await detectDominantFace(img);
      assert.ok(d.score >= 0.6);
      assertSaneLandmarks(d, p);
      assert.ok(d.box.x + d.box.w > 0 && d.box.x < img.width && d.box.y + d.box.h > 0 && d.box.y < img.height);
    });
  }
});
