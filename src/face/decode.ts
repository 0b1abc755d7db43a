/**
 * Image bytes → RgbImage. Only JPEG, PNG and WebP (sniffed from the magic bytes, never trusted
 * from a name or a header), bounded in bytes and pixels before any pixel is decoded, EXIF
 * orientation applied. Every failure is an InputError with a stable code, never a crash. Plain
 * JPEGs are decoded by libjpeg-turbo (turboJpeg.ts), to the pixels sharp would give.
 */
import sharp from 'sharp';
import { InputError } from '../errors.ts';
import { isFrameHeader, jpegSegments, SOS } from './jpegSegments.ts';
import { turboJpeg } from './turboJpeg.ts';
import type { RgbImage } from './types.ts';

export type DecodeLimits = {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
  /** Largest accepted width × height, checked from the header before decoding. */
  maxPixels: number;
};

export const defaultDecodeLimits: DecodeLimits = { maxBytes: 8 * 1024 * 1024, maxPixels: 25_000_000 };

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** The format named by the first bytes, or undefined for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const at = (i: number, sig: number[]) => sig.every((b, k) => bytes[i + k] === b);
  if (at(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50])) return 'webp';
  return undefined;
}

/** Width and height from a PNG's IHDR chunk (always first, at byte 8). */
function pngHeaderSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Width and height from a JPEG's frame header (the first SOFn segment, jpegSegments.ts);
 * undefined when the walk does not reach one (sharp then decides). Saves the separate header
 * read through sharp, ≈ 0.4 ms of a 5 ms frame decode.
 */
export function jpegHeaderSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  for (const segment of jpegSegments(bytes)) {
    if (segment === 'broken' || segment.marker === SOS) return undefined;
    if (isFrameHeader(segment.marker)) {
      const p = segment.payload;
      return p.length < 5 ? undefined : { height: (p[1] << 8) | p[2], width: (p[3] << 8) | p[4] };
    }
  }
  return undefined;
}

export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = defaultDecodeLimits): Promise<RgbImage> {
  if (bytes.length === 0) throw new InputError('image.empty', 'the image is empty');
  if (bytes.length > limits.maxBytes) {
    throw new InputError('image.too_large', `the image is larger than ${limits.maxBytes} bytes`, 413);
  }
  const format = sniffImageFormat(bytes);
  if (!format) throw new InputError('image.unsupported', 'only JPEG, PNG and WebP images are accepted', 415);

  // Header only: a decompression bomb is refused before libvips allocates its pixels. A PNG's
  // size is read from IHDR directly, so a bare oversized header is too large, not corrupt.
  const png = format === 'png' ? pngHeaderSize(bytes) : undefined;
  if (png && png.width * png.height > limits.maxPixels) {
    throw new InputError('image.too_large', `the image has more than ${limits.maxPixels} pixels`, 413);
  }
  let { width, height } = (format === 'jpeg' ? jpegHeaderSize(bytes) : png) ?? { width: undefined, height: undefined };
  if (!width || !height) {
    try {
      ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
    } catch {
      throw new InputError('image.corrupt', 'the image cannot be read', 422);
    }
  }
  if (!width || !height) throw new InputError('image.corrupt', 'the image has no dimensions', 422);
  if (width * height > limits.maxPixels) {
    throw new InputError('image.too_large', `the image has more than ${limits.maxPixels} pixels`, 413);
  }

  // A plain JPEG (a browser's frame) through libjpeg-turbo: the same pixels, a quarter of the CPU.
  const plain = format === 'jpeg' ? turboJpeg?.decodePlain(bytes, limits.maxPixels) : undefined;
  return plain ?? decodeWithSharp(bytes, limits.maxPixels);
}

/**
 * The decode through sharp: EXIF orientation and any embedded ICC profile applied, warnings
 * refused; any failure is `image.corrupt`. decodeImage's size checks come before it. Exported as
 * the reference the libjpeg-turbo path is tested against (test/face/turboJpeg.test.ts).
 */
export async function decodeWithSharp(bytes: Uint8Array, maxPixels: number): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch {
    throw new InputError('image.corrupt', 'the image cannot be decoded', 422);
  }
}
