import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { captureBurst, captureWindow } from '../../../src/face/eval/captureBurst.ts';
import { notCameraLike } from '../../../src/face/eval/livenessSources.ts';
import { isFacegateError } from '../../../src/errors.ts';
import { FACES_DIR } from '../../support/shared.ts';

const photo = (p: string) => new Uint8Array(readFileSync(path.join(FACES_DIR, p)));

test('the capture window: 4:3, inside the photo, at most four face widths, centred on the face where it can be', () => {
  // a small face in a big landscape photo: four face widths, centred on it
  assert.deepEqual(captureWindow(4000, 3000, { x: 1900, y: 1400, w: 200, h: 240 }), { left: 1600, top: 1220, width: 800, height: 600 });
  // a face near the top-left corner: clamped into the photo
  assert.deepEqual(captureWindow(4000, 3000, { x: 0, y: 0, w: 200, h: 240 }), { left: 0, top: 0, width: 800, height: 600 });
  // a big face in a portrait photo: the whole width, 3/4 of it tall, around the face
  assert.deepEqual(captureWindow(600, 1000, { x: 100, y: 100, w: 400, h: 480 }), { left: 0, top: 115, width: 600, height: 450 });
  // a wide photo: the height limits the window
  assert.deepEqual(captureWindow(1600, 600, { x: 700, y: 100, w: 400, h: 400 }), { left: 500, top: 0, width: 800, height: 600 });
});

test('a burst: three 640×480 JPEG frames a few pixels apart, with how much the photo was enlarged', async () => {
  const b = await captureBurst(photo('face_recognition/barack_obama_1.jpg'));
  assert.equal(b.frames.length, 3);
  for (const f of b.frames) {
    const m = await sharp(f).metadata();
    assert.deepEqual([m.format, m.width, m.height], ['jpeg', 640, 480]);
  }
  assert.notDeepEqual(b.frames[0], b.frames[1]);
  assert.equal(b.greyscale, false);
  assert.ok(b.upscale > 0 && b.upscale <= 2, `${b.upscale}`);
  assert.equal(notCameraLike(b), null);
});

test('a 150×150 greyscale crop is a burst too, but not a webcam-like one', async () => {
  const b = await captureBurst(photo('faceapi/kaley_cuoco_1.png'));
  assert.equal(b.greyscale, true);
  assert.ok(b.upscale > 4);
  assert.equal(notCameraLike(b), 'greyscale');
  assert.equal(notCameraLike({ greyscale: false, upscale: b.upscale }), 'upscaled > 2×');
});

test('a photo without a face: face.none', async () => {
  const blank = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  await assert.rejects(captureBurst(new Uint8Array(blank)), (e) => isFacegateError(e) && e.code === 'face.none');
});
