/**
 * The libjpeg-turbo path (turboJpeg.ts) against sharp, the decoder it stands in for: every JPEG
 * it takes must come out byte for byte as sharp decodes it, every JPEG sharp refuses must still be
 * refused, and anything it must not take (EXIF, ICC, greyscale) goes to sharp.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.ts';
import { decodeImage, decodeWithSharp } from '../../src/face/decode.ts';
import { plainJpegMarkers, turboJpeg } from '../../src/face/turboJpeg.ts';
import type { RgbImage } from '../../src/face/types.ts';
import { FACES_DIR } from '../support/shared.ts';

/** decode.ts's sharp path, the decoder the turbo path stands in for: its bytes, or 'corrupt'. */
async function sharpDecode(bytes: Uint8Array): Promise<Buffer | 'corrupt'> {
  try {
    const { data } = await decodeWithSharp(bytes, 25_000_000);
    return Buffer.from(data.buffer, data.byteOffset, data.length);
  } catch (e) {
    if (e instanceof InputError && e.code === 'image.corrupt') return 'corrupt';
    throw e;
  }
}

async function decodeOrCode(bytes: Uint8Array): Promise<Uint8Array | string> {
  try {
    return (await decodeImage(bytes)).data;
  } catch (e) {
    if (e instanceof InputError) return e.code;
    throw e;
  }
}

function jpegsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return jpegsUnder(file);
    return /\.jpe?g$/i.test(name) ? [file] : [];
  });
}

/** 640×480 frames cut from a photo and encoded as a browser might: qualities, chroma subsampling, progressive. */
async function frames(file: string): Promise<Buffer[]> {
  const upright = await sharp(readFileSync(file)).rotate().resize(656, 492, { fit: 'cover' }).toBuffer();
  const crop = () => sharp(upright).extract({ left: 4, top: 4, width: 640, height: 480 });
  return Promise.all([
    crop().jpeg({ quality: 92 }).toBuffer(),
    crop().jpeg({ quality: 75 }).toBuffer(),
    crop().jpeg({ quality: 98, chromaSubsampling: '4:4:4' }).toBuffer(),
    crop().jpeg({ quality: 85, progressive: true }).toBuffer(),
    crop().jpeg({ quality: 60, mozjpeg: true }).toBuffer(),
    // An odd size: partial MCUs at the right and bottom edges.
    sharp(upright).extract({ left: 3, top: 5, width: 333, height: 257 }).jpeg({ quality: 90 }).toBuffer(),
  ]);
}

/** Offset of the first segment with this marker (its 0xFF). */
function segmentAt(jpeg: Buffer, marker: number): number {
  for (let i = 2; i + 3 < jpeg.length; i += 2 + jpeg.readUInt16BE(i + 2)) if (jpeg[i + 1] === marker) return i;
  throw new Error(`no marker ${marker.toString(16)}`);
}

/** The JPEG with every header segment of this marker cut out. */
function withoutSegments(jpeg: Buffer, marker: number): Buffer {
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let i = 2;
  while (jpeg[i + 1] !== 0xda) {
    const end = i + 2 + jpeg.readUInt16BE(i + 2);
    if (jpeg[i + 1] !== marker) kept.push(jpeg.subarray(i, end));
    i = end;
  }
  return Buffer.concat([...kept, jpeg.subarray(i)]);
}

describe('turboJpeg', () => {
  it('is available on Linux x64 and arm64, where the package ships libturbojpeg', { skip: process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch) }, () => {
    assert.ok(turboJpeg, 'the fast path is active: the comparisons below test it, not sharp against itself');
  });

  it('decodes every plain JPEG of the labelled set and of made frames to sharp\'s exact bytes', async () => {
    assert.ok(turboJpeg);
    const photos = jpegsUnder(FACES_DIR).map((f) => readFileSync(f));
    const made = (await Promise.all(['pad/vietmoney/live_1.jpg', 'openface/amy_adams_1.jpg', 'pad/silentface/image_T1.jpg'].map((f) => frames(`${FACES_DIR}/${f}`)))).flat();
    let plain = 0;
    for (const bytes of [...photos, ...made]) {
      const fast = turboJpeg.decodePlain(bytes, 25_000_000);
      if (!fast) continue;
      plain++;
      const reference = await sharpDecode(bytes);
      assert.ok(reference !== 'corrupt' && Buffer.compare(Buffer.from(fast.data.buffer, fast.data.byteOffset, fast.data.length), reference) === 0, `pixels differ from sharp's (${plain}th plain JPEG)`);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual([fast.width, fast.height], [meta.width, meta.height]);
    }
    // Every made frame is plain; the photos with EXIF or ICC segments are not.
    assert.ok(plain >= made.length + 50, `only ${plain} plain JPEGs`);
  });

  it('leaves EXIF-oriented, ICC-tagged and greyscale JPEGs to sharp, which still rotates and converts them', async () => {
    assert.ok(turboJpeg);
    const base = (await frames(`${FACES_DIR}/openface/amy_adams_1.jpg`))[0];
    const rotated = await sharp(base).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const icc = await sharp(base).withIccProfile('p3').jpeg().toBuffer();
    const grey = await sharp(base).toColourspace('b-w').jpeg().toBuffer();
    for (const bytes of [rotated, icc, grey]) {
      assert.equal(turboJpeg.decodePlain(bytes, 25_000_000), undefined);
      const image = await decodeImage(bytes);
      const reference = await sharpDecode(bytes);
      assert.ok(reference !== 'corrupt' && Buffer.compare(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), reference) === 0);
    }
    assert.deepEqual([(await decodeImage(rotated)).width, (await decodeImage(rotated)).height], [480, 640]);
    assert.equal((await decodeImage(grey)).data.length, 640 * 480 * 3);
  });

  it('refuses what sharp refuses and decodes what it decodes: truncated and damaged frames', async () => {
    const base = (await frames(`${FACES_DIR}/pad/vietmoney/live_1.jpg`))[0];
    const damaged: Uint8Array[] = [];
    for (const cut of [0.2, 0.5, 0.9, 0.999]) damaged.push(base.subarray(0, Math.floor(base.length * cut)));
    // Bytes flipped inside the scan, a few at a time, at spread-out places (deterministic).
    for (let k = 1; k <= 12; k++) {
      const copy = Buffer.from(base);
      for (let j = 0; j < k; j++) copy[1000 + ((k * 7919 + j * 104729) % (copy.length - 1200))] ^= 0x5a;
      damaged.push(copy);
    }
    // Extra bytes before the end marker, and a second image glued on.
    damaged.push(Buffer.concat([base.subarray(0, base.length - 2), Buffer.from([1, 2, 3, 0xff, 0xd9])]));
    damaged.push(Buffer.concat([base, base]));
    let refused = 0;
    for (const bytes of damaged) {
      const reference = await sharpDecode(bytes);
      const got = await decodeOrCode(bytes);
      if (reference === 'corrupt') {
        refused++;
        assert.equal(got, 'image.corrupt');
      } else {
        assert.ok(typeof got !== 'string' && Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.length), reference) === 0);
      }
    }
    assert.ok(refused >= 4, `sharp refused only ${refused} of the damaged frames`);
  });

  it('on 2,000 seeded mutations of small frames (header and scan bytes, truncations), decodes only what sharp decodes, to its bytes', async () => {
    assert.ok(turboJpeg);
    const photo = await sharp(readFileSync(`${FACES_DIR}/pad/vietmoney/live_1.jpg`)).rotate().resize(160, 120, { fit: 'cover' }).toBuffer();
    const bases = await Promise.all([sharp(photo).jpeg({ quality: 90 }).toBuffer(), sharp(photo).jpeg({ quality: 80, progressive: true }).toBuffer(), sharp(photo).jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()]);
    let seed = 0x9e3779b9;
    const random = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    let fast = 0;
    for (let k = 0; k < 2000; k++) {
      const base = bases[random(bases.length)];
      const scan = base.indexOf(Buffer.from([0xff, 0xda]));
      const bytes = Buffer.from(base);
      const kind = random(4);
      for (let m = 0, n = kind === 1 ? 1 : 1 + random(3); m < n; m++) {
        const at = kind === 0 ? random(scan) : scan + random(bytes.length - scan);
        bytes[at] = random(3) === 0 ? bytes[at] ^ (1 << random(8)) : random(256);
      }
      const input = kind === 3 ? bytes.subarray(0, random(bytes.length)) : bytes;
      const got: RgbImage | undefined = turboJpeg.decodePlain(input, 25_000_000);
      if (!got) continue;
      fast++;
      const reference = await sharpDecode(input);
      assert.ok(reference !== 'corrupt', `mutation ${k}: sharp refuses what TurboJPEG decoded`);
      assert.ok(Buffer.compare(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.length), reference) === 0, `mutation ${k}: pixels differ`);
    }
    assert.ok(fast >= 500, `only ${fast} mutated frames decoded: the comparison tested too little`);
  });

  it('carries nothing from one frame to the next: a refused header, or the tables of the frame before', async () => {
    assert.ok(turboJpeg);
    const photo = readFileSync(`${FACES_DIR}/openface/amy_adams_1.jpg`);
    const [good, low] = await Promise.all([92, 40].map((quality) => sharp(photo).rotate().resize(640, 480, { fit: 'cover' }).jpeg({ quality }).toBuffer()));
    // A Huffman table whose 16 code counts add up to more than 256 codes: TurboJPEG refuses the header.
    const bogus = Buffer.from(good);
    bogus.fill(0xff, segmentAt(bogus, 0xc4) + 5, segmentAt(bogus, 0xc4) + 21);
    assert.equal(turboJpeg.decodePlain(bogus, 25_000_000), undefined);
    assert.ok(turboJpeg.decodePlain(good, 25_000_000), 'a good frame after a refused header still takes the fast path');
    // A frame without its quantization tables, right after one with tables: a fresh decoder (sharp) refuses it.
    const noTables = withoutSegments(good, 0xdb);
    assert.ok(turboJpeg.decodePlain(low, 25_000_000));
    assert.equal(turboJpeg.decodePlain(noTables, 25_000_000), undefined, "not decoded with the last frame's tables");
    assert.equal(await sharpDecode(noTables), 'corrupt');
  });

  it('takes only a walk of plain segments to the first scan', () => {
    const soi = [0xff, 0xd8];
    const app0 = [0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46];
    const app1 = [0xff, 0xe1, 0x00, 0x04, 0x45, 0x78];
    const app14 = [0xff, 0xee, 0x00, 0x04, 0x41, 0x64];
    const sos = [0xff, 0xda, 0x00, 0x02];
    assert.equal(plainJpegMarkers(Buffer.from([...soi, ...app0, ...sos])), true);
    assert.equal(plainJpegMarkers(Buffer.from([...soi, ...app0, ...app1, ...sos])), false);
    assert.equal(plainJpegMarkers(Buffer.from([...soi, ...app14, ...sos])), false);
    const icc = (profile: number[]) => [0xff, 0xe2, 0x00, 2 + 14 + profile.length, ...Buffer.from('ICC_PROFILE\0', 'latin1'), 1, 1, ...profile];
    assert.equal(plainJpegMarkers(Buffer.from([...soi, ...app0, ...icc([1, 2, 3, 4]), ...sos])), false, 'a profile not listed');
    assert.equal(plainJpegMarkers(Buffer.from([...soi, ...app0.slice(0, 4)])), false, 'a segment running past the end');
    assert.equal(plainJpegMarkers(Buffer.from([...soi, ...app0])), false, 'no scan');
    assert.equal(plainJpegMarkers(Buffer.from([...soi, 0x12, 0x34, ...sos])), false, 'not a marker');
    assert.equal(plainJpegMarkers(Buffer.from([0x89, 0x50, ...sos])), false);
  });
});
