/**
 * Memory the face step shares or reuses for speed: the decoded frame lives in shared memory (the
 * analyse result and the liveness task cross threads without copying it), and the detector's
 * reused input buffer is never shared by two detections in flight on one thread.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/face/decode.ts';
import { detectFaces } from '../../src/face/detect.ts';
import { createFrameProcessor } from '../../src/face/frame.ts';
import { FACES_DIR } from '../support/shared.ts';

const bytes = (file: string) => new Uint8Array(readFileSync(`${FACES_DIR}/${file}`));

test('the analysed frame is in shared memory: passing it to another thread does not copy it', async () => {
  const processor = await createFrameProcessor();
  const { image } = await processor.analyse(bytes('pad/silentface/image_T1.jpg'), 'verify');
  assert.ok(image.data.buffer instanceof SharedArrayBuffer);
  // structuredClone is what postMessage does to a task or a result: the clone sees the same pixels.
  const crossed = structuredClone(image);
  const before = image.data[0];
  crossed.data[0] = before ^ 0xff;
  assert.equal(image.data[0], before ^ 0xff);
  crossed.data[0] = before;
});

test('detections in flight together on one thread equal the same detections one at a time', async () => {
  // Same-sized frames (640×480, the detector's own size), so they would all use the one buffer.
  const frame = async (f: string) => decodeImage(new Uint8Array(await sharp(bytes(f)).rotate().resize(640, 480, { fit: 'cover' }).jpeg().toBuffer()));
  const images = await Promise.all(['pad/silentface/image_T1.jpg', 'openface/amy_adams_1.jpg', 'face_recognition/kit_harington_2.jpg'].map(frame));
  const oneByOne = [];
  for (const image of images) oneByOne.push(await detectFaces(image));
  for (let round = 0; round < 2; round++) assert.deepEqual(await Promise.all(images.map((image) => detectFaces(image))), oneByOne);
});
