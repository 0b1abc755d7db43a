/**
 * The fake-camera clip is what every browser face test captures, so its format must be exactly
 * what Chromium parses and its pixels exactly the photo's: header, frame layout, and the luma
 * checked against an independent conversion of the same crop.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { FACES_DIR } from '../support/shared.ts';
import { motionCrops, photoToY4m, Y4M_HEIGHT, Y4M_WIDTH } from '../support/y4m.ts';

const W = Y4M_WIDTH;
const H = Y4M_HEIGHT;
const FRAME_BYTES = (W * H * 3) / 2;
const photo = readFileSync(path.join(FACES_DIR, 'face_recognition/barack_obama_1.jpg'));
const focus = { x: 0.54, y: 0.24 };

/** Splits a clip into its header fields and frame payloads, failing on any stray byte. */
function parseY4m(clip: Buffer) {
  const end = clip.indexOf(0x0a);
  const header = clip.subarray(0, end).toString('ascii');
  const m = /^YUV4MPEG2 W(\d+) H(\d+) F(\d+):(\d+) Ip A1:1 C420jpeg$/.exec(header);
  assert.ok(m, `header: ${header}`);
  const frames: Buffer[] = [];
  let at = end + 1;
  while (at < clip.length) {
    assert.equal(clip.subarray(at, at + 6).toString('ascii'), 'FRAME\n', `frame marker at byte ${at}`);
    frames.push(clip.subarray(at + 6, at + 6 + FRAME_BYTES));
    at += 6 + FRAME_BYTES;
  }
  assert.equal(at, clip.length, 'the last frame is complete');
  return { width: Number(m[1]), height: Number(m[2]), fps: Number(m[3]) / Number(m[4]), frames };
}

describe('photo → Y4M clip for the fake camera', () => {
  test('header parses and the clip holds N whole 640×480 I420 frames', async () => {
    const clip = parseY4m(await photoToY4m(photo, { frames: 5, focus }));
    assert.deepEqual({ width: clip.width, height: clip.height, fps: clip.fps }, { width: 640, height: 480, fps: 15 });
    assert.equal(clip.frames.length, 5);
    for (const f of clip.frames) assert.equal(f.length, FRAME_BYTES);
  });

  test('the Y plane of a frame matches a direct BT.601 conversion of its crop within ±1', async () => {
    const clip = parseY4m(await photoToY4m(photo, { frames: 4, focus }));
    const meta = await sharp(photo).metadata();
    const crops = motionCrops(meta.autoOrient.width, meta.autoOrient.height, { frames: 4, focus });
    for (const k of [0, 2]) {
      const rgb = await sharp(photo).autoOrient().extract(crops[k]).resize(W, H, { fit: 'fill' }).removeAlpha().raw().toBuffer();
      let worst = 0;
      for (let i = 0; i < W * H; i++) {
        const luma = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
        worst = Math.max(worst, Math.abs(clip.frames[k][i] - (16 + (219 * luma) / 255)));
      }
      assert.ok(worst <= 1, `frame ${k}: largest luma error ${worst}`);
    }
  });

  test('a pure colour lands on the textbook BT.601 Y, U and V', async () => {
    const red = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
    const [frame] = parseY4m(await photoToY4m(red, { frames: 1 })).frames;
    assert.deepEqual([frame[0], frame[W * H], frame[W * H + (W * H) / 4]], [81, 90, 240]);
  });

  test('consecutive frames move a little, are never the same, never leave the photo', async () => {
    const clip = parseY4m(await photoToY4m(photo, { frames: 6, focus }));
    for (let k = 1; k < clip.frames.length; k++) {
      let diff = 0;
      for (let i = 0; i < W * H; i++) diff += Math.abs(clip.frames[k][i] - clip.frames[k - 1][i]);
      const mean = diff / (W * H);
      assert.ok(mean > 0.5 && mean < 25, `frame ${k} vs ${k - 1}: mean luma change ${mean.toFixed(2)}`);
    }
    // The camera test's 15-frame clip: no frame is the one before it, round the loop too (a back-and-forth
    // zoom made frames 7 and 8 equal once the photo's edge clamped the shift, and a capture saw one picture twice).
    const crops = motionCrops(910, 1137, { focus });
    const key = (c: { left: number; top: number; width: number }) => `${c.left},${c.top},${c.width}`;
    crops.forEach((c, i) => assert.notEqual(key(c), key(crops[(i + crops.length - 1) % crops.length]), `frame ${i}`));
    assert.throws(() => motionCrops(40, 30, { frames: 15 }), RangeError, 'a photo too small to move in every frame is refused');
    for (const focusAt of [{ x: 0, y: 0 }, { x: 1, y: 1 }]) {
      for (const c of motionCrops(910, 1137, { frames: 8, focus: focusAt })) {
        assert.ok(c.left >= 0 && c.top >= 0 && c.left + c.width <= 910 && c.top + c.height <= 1137, JSON.stringify(c));
      }
    }
  });
});
