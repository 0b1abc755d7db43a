import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { alignFace } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { detectDominantFace } from '../../src/face/detect.ts';
import { cosine, createRecognizer, l2Normalize, type Recognizer } from '../../src/face/embed.ts';
import { matchThreshold } from '../../src/face/thresholds.ts';
import type { RgbImage } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

const faces = FACES_DIR;
let recognizer: Recognizer;
const cache = new Map<string, Float32Array>();

async function embedding(p: string): Promise<Float32Array> {
  let e = cache.get(p);
  if (!e) {
    const img = await decodeImage(readFileSync(`${faces}/${p}`));
    e = await recognizer.embed(alignFace(img, (await detectDominantFace(img)).landmarks));
    cache.set(p, e);
  }
  return e;
}

before(async () => {
  recognizer = await createRecognizer();
});

describe('createRecognizer', () => {
  it('defaults to the manifest recognizer with its input convention', () => {
    assert.equal(recognizer.name, 'mobilefacenet_foamliu_128d.onnx');
    assert.deepEqual(recognizer.input, { size: 112, color: 'RGB', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], flip: true });
  });

  it('returns a unit-length 128-d embedding, and the same for the same face', async () => {
    const face: RgbImage = { data: new Uint8Array(112 * 112 * 3).map((_, i) => (i * 7) % 256), width: 112, height: 112 };
    const a = await recognizer.embed(face);
    assert.equal(a.length, 128);
    assert.ok(Math.abs(cosine(a, a) - 1) < 1e-5);
    assert.deepEqual(await recognizer.embed(face), a);
  });

  it('flip-averaging (the default) makes the embedding of a mirrored face the same', async () => {
    const flipping = recognizer;
    const plain = await createRecognizer({ input: { flip: false } });
    const data = new Uint8Array(112 * 112 * 3).map((_, i) => (i * 13) % 251);
    const mirrored = new Uint8Array(data.length);
    for (let y = 0; y < 112; y++) for (let x = 0; x < 112; x++) mirrored.set(data.subarray(3 * (y * 112 + x), 3 * (y * 112 + x) + 3), 3 * (y * 112 + 111 - x));
    const a = await flipping.embed({ data, width: 112, height: 112 });
    const b = await flipping.embed({ data: mirrored, width: 112, height: 112 });
    assert.ok(cosine(a, b) > 0.9999);
    const plainA = await plain.embed({ data, width: 112, height: 112 });
    const plainB = await plain.embed({ data: mirrored, width: 112, height: 112 });
    assert.ok(cosine(plainA, plainB) < 0.9999, 'without flip-averaging a mirrored face embeds differently');
  });

  it('refuses a face of the wrong size', async () => {
    await assert.rejects(recognizer.embed({ data: new Uint8Array(100 * 100 * 3), width: 100, height: 100 }), RangeError);
  });

  it('l2Normalize gives unit length', () => {
    assert.deepEqual([...l2Normalize(Float32Array.of(3, 4))], [0.6000000238418579, 0.800000011920929]);
  });
});

describe('match scores on labelled photos', () => {
  const same = [
    ['face_recognition/barack_obama_1.jpg', 'face_recognition/barack_obama_2.jpg'],
    ['face_recognition/kit_harington_1.jpg', 'face_recognition/kit_harington_2.jpg'],
    ['openface/eric_clapton_1.jpg', 'openface/eric_clapton_2.jpg'],
    ['faceapi/jim_parsons_1.png', 'face_recognition_js/jim_parsons_1.png'],
    ['face_recognition_js/simon_helberg_1.png', 'face_recognition_js/simon_helberg_2.png'],
    ['deepface/img1.jpg', 'deepface/img2.jpg'],
  ];
  const different = [
    ['face_recognition/barack_obama_1.jpg', 'face_recognition/joe_biden_1.jpg'],
    ['face_recognition/kit_harington_1.jpg', 'face_recognition/rose_leslie_1.jpg'],
    ['faceapi/jim_parsons_1.png', 'face_recognition_js/simon_helberg_1.png'],
    ['uniface/albert_einstein_1.png', 'openface/steve_carell_1.jpg'],
    ['openface/john_lennon_1.jpg', 'openface/eric_clapton_1.jpg'],
    ['deepface/img1.jpg', 'face_recognition/rose_leslie_1.jpg'],
  ];
  for (const [a, b] of same) {
    it(`same person scores ≥ ${matchThreshold}: ${a} / ${b}`, async () => {
      const s = cosine(await embedding(a), await embedding(b));
      assert.ok(s >= matchThreshold, `cosine ${s.toFixed(3)}`);
    });
  }
  for (const [a, b] of different) {
    it(`different people score < ${matchThreshold}: ${a} / ${b}`, async () => {
      const s = cosine(await embedding(a), await embedding(b));
      assert.ok(s < matchThreshold, `cosine ${s.toFixed(3)}`);
    });
  }
});
