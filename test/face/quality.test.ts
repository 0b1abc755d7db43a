import path from 'node:path';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.ts';
import { alignFace, applySimilarity, arcfaceReference } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { detectDominantFace } from '../../src/face/detect.ts';
import { assessQuality, estimatePose, laplacianVariance, qualityPresets, requireQuality } from '../../src/face/quality.ts';
import type { Detection, Point, RgbImage } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

const photo = readFileSync(path.join(FACES_DIR, 'face_recognition/barack_obama_1.jpg'));
let detection: Detection;

before(async () => {
  detection = await detectDominantFace(await decodeImage(photo));
});

/** The photo after a sharp() transform, aligned with the original photo's landmarks. */
async function alignedAfter(transform: (s: ReturnType<typeof sharp>) => ReturnType<typeof sharp>): Promise<RgbImage> {
  const img = await decodeImage(await transform(sharp(photo)).png().toBuffer());
  return alignFace(img, detection.landmarks);
}

/** A detection whose landmarks are the reference points under a similarity. */
function detectionAt(angle: number, scale: number): Detection {
  const t = { a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx: 50, ty: 50 };
  return { box: { x: 0, y: 0, w: 200, h: 200 }, score: 0.9, landmarks: arcfaceReference.map((p) => applySimilarity(t, p)) as Detection['landmarks'] };
}

describe('quality gates', () => {
  it('a sharp, frontal, well-lit photo passes both presets', async () => {
    const aligned = await alignedAfter((s) => s);
    for (const preset of [qualityPresets.verify, qualityPresets.enroll]) {
      const r = assessQuality(detection, aligned, preset);
      assert.deepEqual(r.reasons, []);
      assert.ok(r.pass);
    }
  });

  it('estimates roll from the eye line and ~0 yaw for the frontal reference', () => {
    const p = estimatePose(detectionAt((20 * Math.PI) / 180, 2));
    assert.ok(Math.abs(p.rollDeg - 20) < 0.5); // the reference eye line itself tilts by −0.3°
    assert.ok(Math.abs(p.yawDeg) < 6);
  });

  it('a nose moved off the midline reads as yaw, with its sign', () => {
    const d = detectionAt(0, 2);
    const eyeDist = d.landmarks[1][0] - d.landmarks[0][0];
    const turned = { ...d, landmarks: d.landmarks.map((p, i): Point => (i === 2 ? [p[0] + 0.4 * eyeDist, p[1]] : p)) as Detection['landmarks'] };
    const left = { ...d, landmarks: d.landmarks.map((p, i): Point => (i === 2 ? [p[0] - 0.4 * eyeDist, p[1]] : p)) as Detection['landmarks'] };
    const yaw = estimatePose(turned).yawDeg;
    assert.ok(yaw > 30 && yaw < 60, `yaw ${yaw}`);
    assert.ok(estimatePose(left).yawDeg < -30);
    assert.deepEqual(assessQuality(turned, { data: new Uint8Array(112 * 112 * 3).fill(120), width: 112, height: 112 }, qualityPresets.enroll).reasons.includes('quality.pose'), true);
  });

  it('a small face fails the size gate (enroll needs 40 px between the eyes, verify 20)', () => {
    const face = { data: new Uint8Array(112 * 112 * 3).fill(120), width: 112, height: 112 };
    const small = detectionAt(0, 30 / 35.2374); // eye distance 30 px
    assert.ok(assessQuality(small, face, qualityPresets.enroll).reasons.includes('quality.face_too_small'));
    assert.ok(!assessQuality(small, face, qualityPresets.verify).reasons.includes('quality.face_too_small'));
  });

  it('a blurred photo fails the blur gate; sharpness falls with blur', async () => {
    const sharpValue = laplacianVariance(await alignedAfter((s) => s));
    const soft = await alignedAfter((s) => s.blur(1.5 * (detection.box.w / 112)));
    const blurred = await alignedAfter((s) => s.blur(4 * (detection.box.w / 112)));
    assert.ok(sharpValue > laplacianVariance(soft) && laplacianVariance(soft) > laplacianVariance(blurred));
    assert.deepEqual(assessQuality(detection, blurred, qualityPresets.verify).reasons, ['quality.blur']);
  });

  it('an over- or under-exposed photo fails the exposure gate', async () => {
    const bright = await alignedAfter((s) => s.linear(3, 0));
    const dark = await alignedAfter((s) => s.linear(0.2, 0));
    assert.ok(assessQuality(detection, bright, qualityPresets.verify).reasons.includes('quality.exposure'));
    assert.ok(assessQuality(detection, dark, qualityPresets.verify).reasons.includes('quality.exposure'));
  });

  it('requireQuality throws the first failed gate as a 422', async () => {
    const blurred = await alignedAfter((s) => s.blur(4 * (detection.box.w / 112)));
    assert.throws(() => requireQuality(assessQuality(detection, blurred, qualityPresets.verify)), (e: unknown) => e instanceof InputError && e.code === 'quality.blur' && e.status === 422);
  });
});
