/**
 * Frames as Chromium encodes them (a canvas → JPEG at quality 0.9, as views/static/faceCapture.js
 * does) take the libjpeg-turbo path, and the sRGB profile Chromium tags them with is one whose
 * transform sharp would apply moves no sample by more than one level: checked over all 16.7 M
 * colours, on the frames themselves, and on what the face step computes from them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { alignFace } from '../../src/face/align.ts';
import { decodeImage, decodeWithSharp } from '../../src/face/decode.ts';
import { detectFaces, dominantFace } from '../../src/face/detect.ts';
import { cosine, createRecognizer } from '../../src/face/embed.ts';
import { jpegSegments } from '../../src/face/jpegSegments.ts';
import { createLivenessEnsemble } from '../../src/face/liveness/ensemble.ts';
import { plainJpegMarkers, srgbProfiles, turboJpeg } from '../../src/face/turboJpeg.ts';
import { chromiumMissing, launchBrowser, type BrowserSession } from '../support/browser.ts';
import { pngChunk } from '../support/pngChunk.ts';
import { FACES_DIR } from '../support/shared.ts';

const skip = chromiumMissing();
const photos = ['openface/amy_adams_1.jpg', 'face_recognition/barack_obama_4.jpg', 'pad/vietmoney/live_1.jpg'];

/** The ICC profiles in a JPEG's APP2 segments before the first scan. */
function iccProfiles(jpeg: Buffer): Buffer[] {
  const found: Buffer[] = [];
  for (const segment of jpegSegments(jpeg)) {
    if (segment === 'broken') break;
    const payload = Buffer.from(segment.payload.buffer, segment.payload.byteOffset, segment.payload.length);
    if (segment.marker === 0xe2 && payload.toString('latin1', 0, 12) === 'ICC_PROFILE\0') found.push(payload.subarray(14));
  }
  return found;
}

/** Samples that differ, and the largest difference. */
function compare(a: Uint8Array, b: Uint8Array): { differ: number; max: number } {
  assert.equal(a.length, b.length);
  let differ = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) differ++;
    if (d > max) max = d;
  }
  return { differ, max };
}

describe('frames Chromium encodes', { skip }, () => {
  let browser: BrowserSession;
  const frames: Buffer[] = [];

  before(async () => {
    browser = await launchBrowser();
    await browser.page.setContent('<!doctype html><canvas width="640" height="480"></canvas>');
    for (const photo of photos) {
      const dataUrl = `data:image/jpeg;base64,${readFileSync(`${FACES_DIR}/${photo}`).toString('base64')}`;
      const b64 = await browser.page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        const canvas = document.querySelector('canvas')!;
        // The top 4:3 of the photo, scaled to 640×480, as the camera would frame it.
        const h = Math.min(img.naturalHeight, (img.naturalWidth * 3) / 4);
        canvas.getContext('2d')!.drawImage(img, 0, 0, img.naturalWidth, h, 0, 0, 640, 480);
        const blob = await new Promise<Blob>((r) => canvas.toBlob((b) => r(b!), 'image/jpeg', 0.9));
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let s = '';
        for (const x of bytes) s += String.fromCharCode(x);
        return btoa(s);
      }, dataUrl);
      frames.push(Buffer.from(b64, 'base64'));
    }
  });
  after(() => browser?.close());

  it('carry a listed sRGB profile and take the libjpeg-turbo path', () => {
    assert.ok(turboJpeg);
    for (const frame of frames) {
      const profiles = iccProfiles(frame);
      assert.equal(profiles.length, 1, 'one ICC segment');
      assert.ok(srgbProfiles.has(createHash('sha256').update(profiles[0]).digest('hex')), 'Chromium still uses the listed profile');
      assert.ok(plainJpegMarkers(frame));
      assert.ok(turboJpeg.decodePlain(frame, 25_000_000));
    }
  });

  it("decode within one level of sharp's, and the face step's embedding and liveness scores do not move", async () => {
    const recognizer = await createRecognizer();
    const ensemble = await createLivenessEnsemble();
    for (const frame of frames) {
      const fast = await decodeImage(frame);
      const reference = await decodeWithSharp(frame, 25_000_000);
      const { differ, max } = compare(fast.data, reference.data);
      assert.ok(max <= 1 && differ / fast.data.length < 0.005, `${differ} samples differ, by up to ${max}`);
      const [a, b] = await Promise.all(
        [fast, reference].map(async (image) => {
          const detection = dominantFace(await detectFaces(image));
          return { embedding: await recognizer.embed(alignFace(image, detection.landmarks)), liveness: (await ensemble.scoreFrame(image, detection)).score };
        }),
      );
      assert.ok(cosine(a.embedding, b.embedding) > 0.999, `embedding cosine ${cosine(a.embedding, b.embedding)}`);
      assert.ok(Math.abs(a.liveness - b.liveness) < 0.01, `liveness ${a.liveness} vs ${b.liveness}`);
    }
  });

  it("under every listed profile, sharp's transform moves no colour by more than one level", async () => {
    const profiles = new Map(frames.flatMap(iccProfiles).map((p) => [createHash('sha256').update(p).digest('hex'), p]));
    assert.deepEqual([...profiles.keys()].sort(), [...srgbProfiles.keys()].sort(), 'every listed profile is the one a browser sends, and is measured here');
    // Every RGB colour once, in a 4096×4096 PNG (lossless) that carries the profile.
    const n = 4096;
    const raw = Buffer.alloc(n * n * 3);
    for (let v = 0; v < n * n; v++) {
      raw[v * 3] = v >> 16;
      raw[v * 3 + 1] = (v >> 8) & 255;
      raw[v * 3 + 2] = v & 255;
    }
    const png = await sharp(raw, { raw: { width: n, height: n, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    for (const profile of profiles.values()) {
      // After the signature (8 bytes) and IHDR (25), an iCCP chunk: name, NUL, method 0, zlib data.
      const tagged = Buffer.concat([png.subarray(0, 33), pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(profile)])), png.subarray(33)]);
      assert.equal((await sharp(tagged).metadata()).hasProfile, true);
      const out = (await decodeWithSharp(tagged, n * n)).data;
      const { differ, max } = compare(out, raw);
      assert.ok(max <= 1 && differ / raw.length < 0.005, `${differ} of ${raw.length} samples moved, by up to ${max}`);
    }
  });
});
