/**
 * The two face policies on crowded pictures built here: two labelled faces pasted into one grey
 * picture at different sizes and places. Which face a policy chose is told by its embedding,
 * matched against each source photo.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.ts';
import { alignFace } from '../../src/face/align.ts';
import { decodeImage } from '../../src/face/decode.ts';
import { chooseFace, detectFaces, dominantFace, mainPhotoFace } from '../../src/face/detect.ts';
import { cosine, createRecognizer, type Recognizer } from '../../src/face/embed.ts';
import type { Detection, RgbImage } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

const W = 1280;
const H = 800;
const sources = { obama: 'face_recognition/barack_obama_1.jpg', biden: 'face_recognition/joe_biden_1.jpg' } as const;
type Who = keyof typeof sources;

let recognizer: Recognizer;
const reference = {} as Record<Who, Float32Array>;
/** Each source cut to a square around its face (1.6 × the box), as PNG. */
const crops = {} as Record<Who, Buffer>;

const embed = async (img: RgbImage, d: Detection) => recognizer.embed(alignFace(img, d.landmarks));

before(async () => {
  recognizer = await createRecognizer();
  for (const who of Object.keys(sources) as Who[]) {
    const bytes = readFileSync(`${FACES_DIR}/${sources[who]}`);
    const img = await decodeImage(bytes);
    const face = dominantFace(await detectFaces(img));
    reference[who] = await embed(img, face);
    const side = Math.round(1.6 * Math.max(face.box.w, face.box.h));
    const left = Math.max(0, Math.round(face.box.x + face.box.w / 2 - side / 2));
    const top = Math.max(0, Math.round(face.box.y + face.box.h / 2 - side / 2));
    crops[who] = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .extract({ left, top, width: Math.min(side, img.width - left), height: Math.min(side, img.height - top) })
      .png()
      .toBuffer();
  }
});

/** A W×H grey picture with each face's crop resized to `size` px and centred at (x, y). */
async function composite(parts: Array<{ who: Who; size: number; x: number; y: number }>): Promise<RgbImage> {
  const layers = await Promise.all(
    parts.map(async (p) => ({
      input: await sharp(crops[p.who]).resize(p.size, p.size, { fit: 'fill' }).toBuffer(),
      left: Math.round(p.x - p.size / 2),
      top: Math.round(p.y - p.size / 2),
    })),
  );
  const png = await sharp({ create: { width: W, height: H, channels: 3, background: { r: 127, g: 127, b: 127 } } }).composite(layers).png().toBuffer();
  return decodeImage(png);
}

/** Whose face the detection shows: the source its embedding matches best, and by how much. */
async function whose(img: RgbImage, d: Detection): Promise<Who> {
  const e = await embed(img, d);
  const [a, b] = [cosine(e, reference.obama), cosine(e, reference.biden)];
  assert.ok(Math.max(a, b) > 0.5 && Math.abs(a - b) > 0.3, `cosines obama ${a.toFixed(3)}, biden ${b.toFixed(3)}`);
  return a > b ? 'obama' : 'biden';
}

const area = (d: Detection) => d.box.w * d.box.h;

describe('face policies on composite photos', () => {
  it('a comparable face beside the main one: capture refuses (face.multiple), photo takes the centred face and counts the other', async () => {
    const img = await composite([
      { who: 'obama', size: 360, x: 190, y: 400 },
      { who: 'biden', size: 300, x: 640, y: 400 },
    ]);
    const found = await detectFaces(img);
    assert.equal(found.length, 2);
    const [larger, smaller] = [...found].sort((a, b) => area(b) - area(a));
    assert.ok(area(smaller) >= 0.5 * area(larger), 'the second face is at least half the largest one');
    assert.equal(await whose(img, larger), 'obama');
    assert.throws(() => chooseFace(found, img, 'capture'), (e: unknown) => e instanceof InputError && e.code === 'face.multiple');
    const photo = chooseFace(found, img, 'photo');
    assert.equal(photo.otherFaces, 1);
    assert.equal(await whose(img, photo.face), 'biden');
  });

  it('a large face at the edge and a smaller centred one: capture takes the largest, photo the centred', async () => {
    const img = await composite([
      { who: 'obama', size: 420, x: 215, y: 400 },
      { who: 'biden', size: 240, x: 640, y: 400 },
    ]);
    const found = await detectFaces(img);
    assert.equal(found.length, 2);
    const capture = chooseFace(found, img, 'capture');
    assert.equal(await whose(img, capture.face), 'obama');
    assert.equal(capture.otherFaces, 1);
    assert.equal(await whose(img, chooseFace(found, img, 'photo').face), 'biden');
  });

  it('a large centred face and a small one in a corner: both policies take the centred face', async () => {
    const img = await composite([
      { who: 'biden', size: 160, x: 100, y: 100 },
      { who: 'obama', size: 420, x: 640, y: 400 },
    ]);
    const found = await detectFaces(img);
    assert.equal(found.length, 2);
    assert.equal(await whose(img, chooseFace(found, img, 'capture').face), 'obama');
    const photo = mainPhotoFace(found, img);
    assert.equal(await whose(img, photo.face), 'obama');
    assert.equal(photo.otherFaces, 1);
  });

  it('no face is face.none under both policies', () => {
    for (const policy of ['capture', 'photo'] as const) {
      assert.throws(() => chooseFace([], { width: W, height: H }, policy), (e: unknown) => e instanceof InputError && e.code === 'face.none');
    }
  });
});

describe('mainPhotoFace (insightface rule)', () => {
  const box = (x: number, y: number, w: number, h: number): Detection => ({ box: { x, y, w, h }, score: 0.9, landmarks: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] });

  it('scores area − 2·(squared centre offset) against the image centre ⌊w/2⌋, ⌊h/2⌋', () => {
    // 101×100 picture: centre (50, 50). A: 20×20 centred on (50, 50) → 400. B: 30×30 centred on
    // (70, 50) → 900 − 2·400 = 100. C: 30×30 centred on (60, 50) → 900 − 200 = 700, the winner.
    const a = box(40, 40, 20, 20);
    const b = box(55, 35, 30, 30);
    const c = box(45, 35, 30, 30);
    assert.equal(mainPhotoFace([a, b], { width: 101, height: 100 }).face, a);
    assert.equal(mainPhotoFace([a, b, c], { width: 101, height: 100 }).face, c);
    assert.equal(mainPhotoFace([a, b, c], { width: 101, height: 100 }).otherFaces, 2);
  });
});
