/**
 * Plain JPEG → RGB through libjpeg-turbo's TurboJPEG 3 API, called on the calling thread through
 * koffi. Why: sharp (libvips and the mozjpeg it bundles) spends 3.7–4.3 ms of CPU on a 640×480
 * frame on this project's 2-core machine, libjpeg-turbo's SIMD decoder 0.7 ms (1.2 ms with the
 * page faults of its fresh output buffer) — ≈ 8 ms less a 3-frame burst. The pixels are sharp's,
 * byte for byte: both use libjpeg's accurate integer IDCT and its smooth chroma upsampling,
 * TurboJPEG's defaults (test/face/turboJpeg.test.ts compares them with decode.ts's sharp path on
 * every JPEG this path takes) — save for the one-level rounding of srgbProfiles below.
 *
 * Only plain JPEGs take this path: 8-bit, lossy, YCbCr, and no APP1–APP15 segment before the
 * first scan but a known sRGB profile — what a browser's canvas encodes. Anything else (EXIF
 * orientation, another ICC profile, an Adobe transform, greyscale, CMYK, 12-bit) is left to
 * sharp, which rotates and converts it.
 * So is any JPEG TurboJPEG fails on, with warnings treated as errors as sharp's `failOn:
 * 'warning'` does: sharp then decides, and its refusal is the one the caller sees.
 *
 * The library is the libturbojpeg shared object in @julusian/jpeg-turbo's Linux prebuilds
 * (libjpeg-turbo 3.1); that package's own binding is not used because it forces the fast IDCT,
 * which changes pixels (up to 6 levels on a 640×480 frame). Where the package has no shared
 * object (macOS and Windows link it statically), `turboJpeg` is null and every image goes to
 * sharp. The call is synchronous: it runs in the face pool's worker threads, one frame at a time.
 * Each frame gets a fresh TurboJPEG handle, so nothing of one frame reaches the next.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';
import { jpegSegments, SOS } from './jpegSegments.ts';
import type { RgbImage } from './types.ts';

export type TurboJpeg = {
  /** The frame's pixels, or undefined when this is not a plain JPEG or TurboJPEG fails on it.
   *  `maxPixels` is checked on the header TurboJPEG read, before any pixel is allocated. */
  decodePlain(bytes: Uint8Array, maxPixels: number): RgbImage | undefined;
};

// turbojpeg.h (libjpeg-turbo 3): tj3Init's TJINIT_DECOMPRESS, TJPARAM_* and TJPF_RGB.
const TJINIT_DECOMPRESS = 1;
const TJPARAM_STOPONWARNING = 0;
const TJPARAM_JPEGWIDTH = 5;
const TJPARAM_JPEGHEIGHT = 6;
const TJPARAM_PRECISION = 7;
const TJPARAM_COLORSPACE = 8;
const TJPARAM_FASTUPSAMPLE = 9;
const TJPARAM_FASTDCT = 10;
const TJPARAM_LOSSLESS = 15;
const TJCS_YCbCr = 1;
const TJPF_RGB = 0;

/**
 * ICC profiles a plain JPEG may carry, by SHA-256: sRGB profiles whose transform to sRGB under
 * sharp moves no sample by more than one level. Chromium tags every canvas JPEG with Skia's
 * 456-byte sRGB profile, so a browser's frame carries one. Over all 16.7 M colours, sharp's
 * transform from it changes 0.28 % of samples, each by exactly 1 (lcms rounding; the profile
 * describes the sRGB sharp converts to). Decoding such a frame without the transform is the
 * one place this path's pixels may differ from sharp's, by that much; test/browser/
 * chromiumFrames.test.ts measures it on every listed profile and on a frame Chromium encodes.
 */
export const srgbProfiles: ReadonlyMap<string, string> = new Map([['12afb4d9953adee0607d347daee5b78b18d6b3cab2d572b88970703f5edb37bc', "Chromium's canvas sRGB (Skia)"]]);

const ICC_SIGNATURE = Buffer.from('ICC_PROFILE\0', 'latin1');

/** An APP2 payload that is a whole ICC profile in one chunk (sequence 1 of 1) listed in srgbProfiles. */
function listedProfile(payload: Uint8Array): boolean {
  if (payload.length < 14 || Buffer.compare(payload.subarray(0, 12), ICC_SIGNATURE) !== 0 || payload[12] !== 1 || payload[13] !== 1) return false;
  return srgbProfiles.has(createHash('sha256').update(payload.subarray(14)).digest('hex'));
}

/**
 * True when no segment before the first scan can make sharp render the pixels differently from
 * a bare decode (beyond srgbProfiles' one level): no APPn other than APP0 (JFIF) and an APP2
 * with a listed sRGB profile. APP1 carries EXIF orientation, APP2 other ICC profiles, APP14
 * Adobe's colour transform. False when the walk does not reach a scan.
 */
export function plainJpegMarkers(bytes: Uint8Array): boolean {
  for (const segment of jpegSegments(bytes)) {
    if (segment === 'broken') return false;
    const { marker, payload } = segment;
    if (marker === SOS) return true;
    if (marker === 0xe2 ? !listedProfile(payload) : marker >= 0xe1 && marker <= 0xef) return false;
  }
  return false;
}

/** The shared object of @julusian/jpeg-turbo's prebuild for this platform, if it ships one. */
function libraryPath(): string | undefined {
  let root: string;
  try {
    root = path.dirname(createRequire(import.meta.url).resolve('@julusian/jpeg-turbo/package.json'));
  } catch {
    return undefined;
  }
  // The package builds Linux for glibc and for musl (Alpine) apart; a report names glibc's version only under glibc.
  const musl = process.platform === 'linux' && !(process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  const file = path.join(root, 'prebuilds', `jpeg-turbo-${process.platform}-${process.arch}${musl ? '-musl' : ''}`, 'libturbojpeg.so.0');
  return existsSync(file) ? file : undefined;
}

function load(): TurboJpeg | null {
  const file = libraryPath();
  if (!file) return null;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(file);
  } catch {
    return null; // a shared object this system cannot load (another C library): sharp decodes
  }
  const tj3Init = lib.func('void *tj3Init(int initType)');
  const tj3Destroy = lib.func('void tj3Destroy(void *handle)');
  const tj3Set = lib.func('int tj3Set(void *handle, int param, int value)');
  const tj3Get = lib.func('int tj3Get(void *handle, int param)');
  const tj3DecompressHeader = lib.func('int tj3DecompressHeader(void *handle, const uint8_t *jpegBuf, size_t jpegSize)');
  const tj3Decompress8 = lib.func('int tj3Decompress8(void *handle, const uint8_t *jpegBuf, size_t jpegSize, uint8_t *dstBuf, int pitch, int pixelFormat)');

  /**
   * One frame on a handle of its own (≈ 3 µs to make and free). A reused handle carries state from
   * frame to frame: after a header TurboJPEG refused ("Bogus Huffman table definition") every
   * later header failed too, and libjpeg keeps the tables of the last image, which a frame without
   * its own would silently decode with where sharp refuses it. A fresh decompressor, as sharp uses.
   */
  function decodeFresh(bytes: Uint8Array, maxPixels: number): RgbImage | undefined {
    const handle = tj3Init(TJINIT_DECOMPRESS);
    if (!handle) return undefined;
    try {
      // Warnings (a truncated scan, extraneous bytes) stop the decode, as sharp's failOn: 'warning'.
      // The IDCT and upsampling are set to their accurate defaults explicitly: they make the pixels sharp's.
      if (tj3Set(handle, TJPARAM_STOPONWARNING, 1) || tj3Set(handle, TJPARAM_FASTDCT, 0) || tj3Set(handle, TJPARAM_FASTUPSAMPLE, 0)) return undefined;
      if (tj3DecompressHeader(handle, bytes, bytes.length) !== 0) return undefined;
      const width = tj3Get(handle, TJPARAM_JPEGWIDTH);
      const height = tj3Get(handle, TJPARAM_JPEGHEIGHT);
      if (tj3Get(handle, TJPARAM_COLORSPACE) !== TJCS_YCbCr || tj3Get(handle, TJPARAM_PRECISION) !== 8 || tj3Get(handle, TJPARAM_LOSSLESS) !== 0) return undefined;
      if (!(width > 0 && height > 0) || width * height > maxPixels) return undefined;
      const data = new Uint8Array(width * height * 3);
      if (tj3Decompress8(handle, bytes, bytes.length, data, 0, TJPF_RGB) !== 0) return undefined;
      return { data, width, height };
    } finally {
      tj3Destroy(handle);
    }
  }
  return { decodePlain: (bytes, maxPixels) => (plainJpegMarkers(bytes) ? decodeFresh(bytes, maxPixels) : undefined) };
}

/** This thread's decoder, or null where no libturbojpeg shared object is shipped. */
export const turboJpeg: TurboJpeg | null = load();
