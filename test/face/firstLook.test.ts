/**
 * The detector's cheap first look (detect.ts fastInputSize, a 2× box-shrunk 640×480 frame) and
 * how the frame processor uses it: close to the full look on a webcam-sized face, the full look
 * itself for a small face or several faces, and the box the alignment and the liveness crops use.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/face/decode.ts';
import { detectFaces } from '../../src/face/detect.ts';
import { createFrameProcessor, firstLookSize } from '../../src/face/frame.ts';
import { createLivenessEnsemble } from '../../src/face/liveness/ensemble.ts';
import { FACES_DIR } from '../support/shared.ts';

const bytes = (file: string) => readFileSync(`${FACES_DIR}/${file}`);
const frameBytes = async (file: string) => new Uint8Array(await sharp(bytes(file)).rotate().resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer());
const firstLook = { fastInputSize: firstLookSize };

// Tolerances: the largest differences measured on these frames and two more (box 10.5 %, landmarks
// 6.7 % of the face width; the full look is an estimate too). A coordinate mapped back wrongly
// (not × 2) would be off by half the frame. \`npm run eval\` judges the accuracy itself.
test('on a webcam-sized face the first look finds the same face: box within 12 %, landmarks within 8 % of its width', async () => {
  for (const file of ['pad/vietmoney/live_1.jpg', 'pad/silentface/image_T1.jpg', 'pad/khanhngit-ssan/live_1.jpg']) {
    const image = await decodeImage(await frameBytes(file));
    const [full] = await detectFaces(image);
    const fast = await detectFaces(image, firstLook);
    assert.equal(fast.length, 1, file);
    for (const k of ['x', 'y', 'w', 'h'] as const) assert.ok(Math.abs(fast[0].box[k] - full.box[k]) <= 0.12 * full.box.w, `${file} box.${k}: ${fast[0].box[k]} vs ${full.box[k]}`);
    fast[0].landmarks.forEach(([x, y], i) => assert.ok(Math.hypot(x - full.landmarks[i][0], y - full.landmarks[i][1]) <= 0.08 * full.box.w, `${file} landmark ${i}`));
    // It is a different look (the shrunk frame), not the full one again.
    assert.notDeepEqual(fast, [full]);
  }
});

test('a small face, two faces or none: the full look decides', async () => {
  // A face about 90 px wide in a 640×480 frame: 45 px in the first look, under its 64 px.
  const small = await sharp(bytes('face_recognition/barack_obama_1.jpg')).rotate().resize({ height: 160 }).toBuffer();
  const canvas = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 120 } } }).composite([{ input: small, left: 200, top: 150 }]).jpeg().toBuffer();
  const couple = await sharp(bytes('deepface/couple.jpg')).resize(640, 480, { fit: 'cover' }).jpeg().toBuffer();
  const blank = { data: new Uint8Array(640 * 480 * 3).fill(128), width: 640, height: 480 };
  for (const image of [await decodeImage(new Uint8Array(canvas)), await decodeImage(new Uint8Array(couple)), blank]) {
    assert.deepEqual(await detectFaces(image, firstLook), await detectFaces(image));
  }
  assert.equal((await detectFaces(await decodeImage(new Uint8Array(couple)), firstLook)).length, 2);
});

test('the frame processor: every frame takes the first look, and its liveness is scored on that box', async () => {
  const processor = await createFrameProcessor();
  const frame = await frameBytes('pad/silentface/image_T1.jpg');
  const analysis = await processor.analyse(frame, 'verify');
  const [fast] = await detectFaces(analysis.image, firstLook);
  assert.deepEqual(analysis.detection, fast);
  assert.notDeepEqual(analysis.detection, (await detectFaces(analysis.image))[0]);
  const ensemble = await createLivenessEnsemble();
  const scored = await processor.liveness(analysis.image, analysis.detection);
  assert.deepEqual(scored.perModel, (await ensemble.scoreFrame(analysis.image, fast)).perModel);
});
