import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { cosine, createRecognizer, type Recognizer } from '../../../src/face/embed.ts';
import { createPlainReference, type PlainReference } from '../../../src/face/eval/plainReference.ts';
import { frameThroughBoth } from '../../../src/face/eval/referenceFrames.ts';
import { FACES_DIR } from '../../support/shared.ts';

let plain: PlainReference;
let recognizer: Recognizer;
before(async () => {
  [plain, recognizer] = await Promise.all([createPlainReference(), createRecognizer()]);
});

const photo = (file: string) => new Uint8Array(readFileSync(path.join(FACES_DIR, file)));

test('a colour photo becomes a webcam-like frame both pipelines embed, as the same person', async () => {
  const r = await frameThroughBoth(photo('deepface/img1.jpg'), 'angelina_jolie', 'img1.jpg', plain, recognizer);
  assert.equal(r.kind, 'webcam-like');
  assert.ok(r.project && 'embedding' in r.reference);
  assert.ok(cosine(r.project, r.reference.embedding) > 0.8);
});

test('a 150 px crop enlarged into a frame is not webcam-like', async () => {
  const r = await frameThroughBoth(photo('faceapi/kaley_cuoco_1.png'), 'kaley_cuoco', 'kaley_cuoco_1.png', plain, recognizer);
  assert.equal(r.kind, 'other');
});

test('a picture without a face gives no frame: a failure for both', async () => {
  const noise = await sharp(Buffer.from(Array.from({ length: 300 * 200 * 3 }, (_, i) => (i * 37) % 256)), { raw: { width: 300, height: 200, channels: 3 } }).png().toBuffer();
  const r = await frameThroughBoth(new Uint8Array(noise), 'nobody', 'noise.png', plain, recognizer);
  assert.deepEqual([r.project, r.reference], [null, { failure: 'face.none' }]);
});
