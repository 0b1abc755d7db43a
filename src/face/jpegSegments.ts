/**
 * The marker segments of a JPEG's header, walked from SOI to the first scan without decoding:
 * what decode.ts reads the frame size from before any pixel is allocated, and what turboJpeg.ts
 * checks a frame is plain by. One walk, so the two never disagree on where a segment is.
 */

/** A marker and its payload (after the 2-byte length; cut short where the bytes end). */
export type JpegSegment = { marker: number; payload: Uint8Array };

export const SOS = 0xda;
const EOI = 0xd9;
const none = new Uint8Array(0);

/**
 * The segments in order, ending with SOS (empty payload) when the walk reaches a scan. It stops
 * early — after yielding `'broken'` — at anything that is not a segment: a missing SOI, a byte
 * that is not a marker, EOI, or a length below 2. Fill bytes are skipped, and so are the markers
 * that have no length (TEM, RSTn), as libjpeg skips them.
 */
export function* jpegSegments(bytes: Uint8Array): Generator<JpegSegment | 'broken'> {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return yield 'broken';
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return yield 'broken';
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === SOS) return yield { marker, payload: none };
    if (marker === EOI || marker === 0xd8) return yield 'broken';
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (length < 2) return yield 'broken';
    yield { marker, payload: bytes.subarray(i + 4, i + 2 + length) };
    i += 2 + length;
  }
}

/** SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC): a frame header. */
export const isFrameHeader = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
