/**
 * Memory the face step keeps on one thread or reuses for speed: a decoded frame is scored for
 * liveness where it was decoded and never crosses threads, and the detector's reused input buffer
 * is never shared by two detections in flight on one thread.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/face/decode.ts';
import { detectFaces } from '../../src/face/detect.ts';
import { createFrameProcessor } from '../../src/face/frame.ts';
import processFrameTask from '../../src/face/worker.ts';
import { FACES_DIR } from '../support/shared.ts';

const bytes = (file: string) => new Uint8Array(readFileSync(`${FACES_DIR}/${file}`));

test('a frame drawn for liveness is scored in the task that analyses it: the answer carries its scores, never its pixels', async () => {
  const bytes0 = bytes('pad/silentface/image_T1.jpg');
  const processor = await createFrameProcessor();
  const direct = await processor.analyse(bytes0, 'verify');
  const expected = await processor.liveness(direct.image, direct.detection);
  const drawn = await processFrameTask({ step: 'analyse', bytes: bytes0, purpose: 'verify', livenessWithinYawDeg: Number.POSITIVE_INFINITY });
  assert.ok(drawn.ok && 'liveness' in drawn && drawn.liveness?.ok);
  assert.equal('image' in drawn.result, false, 'no pixels cross back');
  assert.deepEqual(drawn.liveness.result.perModel, expected.perModel);
  assert.deepEqual(drawn.result.detection, direct.detection);
  // Not drawn, or turned further than the limit: not scored.
  const plain = await processFrameTask({ step: 'analyse', bytes: bytes0, purpose: 'verify', livenessWithinYawDeg: null });
  assert.ok(plain.ok && 'liveness' in plain && plain.liveness === null);
  const turned = await processFrameTask({ step: 'analyse', bytes: bytes0, purpose: 'verify', livenessWithinYawDeg: Math.abs(direct.quality.pose.yawDeg) / 2 });
  assert.ok(turned.ok && 'liveness' in turned && turned.liveness === null);
  // The fallback for a frame drawn later decodes it again and scores the same box.
  const later = await processFrameTask({ step: 'liveness', bytes: bytes0, detection: direct.detection });
  assert.ok(later.ok && 'perModel' in later.result);
  assert.deepEqual(later.result.perModel, expected.perModel);
});

test('detections in flight together on one thread equal the same detections one at a time', async () => {
  // Same-sized frames (640×480, the detector's own size), so they would all use the one buffer.
  const frame = async (f: string) => decodeImage(new Uint8Array(await sharp(bytes(f)).rotate().resize(640, 480, { fit: 'cover' }).jpeg().toBuffer()));
  const images = await Promise.all(['pad/silentface/image_T1.jpg', 'openface/amy_adams_1.jpg', 'face_recognition/kit_harington_2.jpg'].map(frame));
  const oneByOne = [];
  for (const image of images) oneByOne.push(await detectFaces(image));
  for (let round = 0; round < 2; round++) assert.deepEqual(await Promise.all(images.map((image) => detectFaces(image))), oneByOne);
});
