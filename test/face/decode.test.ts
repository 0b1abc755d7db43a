import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.ts';
import { readdirSync } from 'node:fs';
import { decodeImage, jpegHeaderSize, sniffImageFormat } from '../../src/face/decode.ts';
import { pngChunk } from '../support/pngChunk.ts';
import { FACES_DIR } from '../support/shared.ts';

const faces = FACES_DIR;

function rejects(p: Promise<unknown>, code: string) {
  return assert.rejects(p, (e: unknown) => e instanceof InputError && e.code === code);
}

/** A PNG whose header claims width × height, with no (or a token of) pixel data. */
function pngHeader(width: number, height: number, withData = false): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), ...(withData ? [pngChunk('IDAT', deflateSync(Buffer.alloc(64)))] : []), pngChunk('IEND', Buffer.alloc(0))]);
}

describe('sniffImageFormat', () => {
  it('names JPEG, PNG and WebP from magic bytes only', async () => {
    assert.equal(sniffImageFormat(readFileSync(`${faces}/deepface/couple.jpg`)), 'jpeg');
    assert.equal(sniffImageFormat(pngHeader(1, 1)), 'png');
    assert.equal(sniffImageFormat(await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).webp().toBuffer()), 'webp');
    assert.equal(sniffImageFormat(Buffer.from('GIF89a')), undefined);
  });
});

describe('decodeImage', () => {
  it('rejects an empty body', () => rejects(decodeImage(new Uint8Array(0)), 'image.empty'));

  it('rejects a non-image', () => rejects(decodeImage(Buffer.from('<html>hello</html>')), 'image.unsupported'));

  it('rejects a GIF even when it is a real image', async () => {
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } }).gif().toBuffer();
    await rejects(decodeImage(gif), 'image.unsupported');
  });

  it('rejects a truncated JPEG as corrupt', async () => {
    const jpeg = readFileSync(`${faces}/deepface/couple.jpg`);
    await rejects(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2))), 'image.corrupt');
  });

  it('rejects a JPEG signature followed by garbage as corrupt', () => rejects(decodeImage(Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3, 4, 5])), 'image.corrupt'));

  it('rejects a 30000×30000 PNG header before decoding', async () => {
    await rejects(decodeImage(pngHeader(30000, 30000)), 'image.too_large');
    await rejects(decodeImage(pngHeader(30000, 30000, true)), 'image.too_large');
  });

  it('rejects an oversized JPEG from its header', async () => {
    const jpeg = await sharp({ create: { width: 600, height: 500, channels: 3, background: 'red' } }).jpeg().toBuffer();
    await rejects(decodeImage(jpeg, { maxBytes: 8e6, maxPixels: 600 * 500 - 1 }), 'image.too_large');
    assert.equal((await decodeImage(jpeg, { maxBytes: 8e6, maxPixels: 600 * 500 })).width, 600);
  });

  it('reads a JPEG\'s size from its frame header as sharp does, on every JPEG of the labelled set (baseline, progressive, EXIF)', async () => {
    // By content: some files named .jpg are WebP.
    const files = readdirSync(faces, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(jpe?g|png|webp)$/i.test(f) && sniffImageFormat(readFileSync(`${faces}/${f}`)) === 'jpeg');
    assert.ok(files.length > 100);
    for (const f of files) {
      const bytes = readFileSync(`${faces}/${f}`);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual(jpegHeaderSize(bytes), { width: meta.width, height: meta.height }, f);
    }
    // Progressive (SOF2) and with restart markers, made here.
    const progressive = await sharp({ create: { width: 321, height: 123, channels: 3, background: 'blue' } }).jpeg({ progressive: true }).toBuffer();
    assert.deepEqual(jpegHeaderSize(progressive), { width: 321, height: 123 });
    assert.equal(jpegHeaderSize(Buffer.from([0xff, 0xd8, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9])), undefined);
  });

  it('rejects a JPEG header claiming 30000×30000 before decoding', async () => {
    // SOI, then a SOF0 segment (length 17: precision 8, height, width, 3 components) and nothing else.
    const sof = Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x75, 0x30, 0x75, 0x30, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    assert.deepEqual(jpegHeaderSize(sof), { width: 30000, height: 30000 });
    await rejects(decodeImage(sof), 'image.too_large');
  });

  it('rejects a body over the byte limit', () => rejects(decodeImage(readFileSync(`${faces}/deepface/couple.jpg`), { maxBytes: 1000, maxPixels: 25e6 }), 'image.too_large'));

  it('applies EXIF orientation (640×480 stored, 480×640 shown)', async () => {
    const img = await decodeImage(readFileSync(`${faces}/pad/silentface/image_T1.jpg`));
    assert.equal(img.width, 480);
    assert.equal(img.height, 640);
    assert.equal(img.data.length, 480 * 640 * 3);
  });

  it('returns 3 channels for grayscale and RGBA input', async () => {
    const gray = await sharp({ create: { width: 5, height: 3, channels: 3, background: { r: 90, g: 90, b: 90 } } }).grayscale().png().toBuffer();
    const g = await decodeImage(gray);
    assert.deepEqual([g.width, g.height, g.data.length], [5, 3, 45]);
    assert.ok(Math.abs(g.data[0] - 90) <= 1 && g.data[0] === g.data[1] && g.data[1] === g.data[2]);
    const rgba = await sharp({ create: { width: 2, height: 2, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
    const c = await decodeImage(rgba);
    assert.deepEqual([...c.data.subarray(0, 3)], [10, 20, 30]);
  });

  it('reduces 16-bit PNG and CMYK JPEG to 8-bit RGB, and refuses TIFF', async () => {
    const base = sharp({ create: { width: 20, height: 10, channels: 3, background: { r: 200, g: 100, b: 50 } } });
    const png16 = await decodeImage(await base.clone().png().toColourspace('rgb16').toBuffer());
    assert.deepEqual([png16.data.length, ...png16.data.subarray(0, 3)], [600, 200, 100, 50]);
    const cmyk = await decodeImage(await base.clone().jpeg().toColourspace('cmyk').toBuffer());
    assert.equal(cmyk.data.length, 600);
    await rejects(decodeImage(await base.clone().tiff().toBuffer()), 'image.unsupported');
  });

  it('decodes WebP', async () => {
    const webp = await sharp({ create: { width: 8, height: 6, channels: 3, background: 'blue' } }).webp({ lossless: true }).toBuffer();
    const img = await decodeImage(webp);
    assert.deepEqual([img.width, img.height, img.data[2]], [8, 6, 255]);
  });
});
