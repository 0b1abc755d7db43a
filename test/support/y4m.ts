/**
 * Turns a still photo into a short YUV4MPEG2 clip that Chromium's fake camera plays
 * (`--use-file-for-fake-video-capture`), so browser tests capture a real face instead of the
 * built-in test pattern. Each frame is cropped a little differently (a few pixels of shift and
 * a percent of zoom) so consecutive captures are not byte-identical, like a hand-held phone.
 */
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

export const Y4M_WIDTH = 640;
export const Y4M_HEIGHT = 480;
export const Y4M_FPS = 15;

/** Where frame `index` of the clip is cut from the (auto-oriented) photo. */
export type Crop = { left: number; top: number; width: number; height: number };

export type ClipOptions = {
  /** Number of frames; Chromium loops the clip. */
  frames?: number;
  /** The point of the photo (fractions of its width and height) the crops centre on, as far as
   *  the photo allows: portraits need the face, not the middle, in a landscape camera frame. */
  focus?: { x: number; y: number };
};

/** The 4:3 crop of the photo for each frame: the largest one around `focus`, zoomed in a little
 *  more each frame (up to 4 %, then back to the start as the clip loops) and shifted by up to 2 %
 *  of its width. The zoom only grows within the loop, so no frame is the one before it, even where
 *  the photo's edge clamps the shift away: a smooth back-and-forth zoom once gave two equal frames
 *  at its turning point, and a capture that landed on both saw one picture twice. */
export function motionCrops(photoWidth: number, photoHeight: number, { frames = 15, focus = { x: 0.5, y: 0.5 } }: ClipOptions = {}): Crop[] {
  const aspect = Y4M_WIDTH / Y4M_HEIGHT;
  const baseW = Math.min(photoWidth, photoHeight * aspect);
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  const crops = Array.from({ length: frames }, (_, i) => {
    const phase = (2 * Math.PI * i) / frames;
    const zoom = 1 + (0.04 * i) / frames;
    const width = Math.floor(baseW / zoom);
    const height = Math.floor(width / aspect);
    const dx = 0.02 * width * Math.sin(phase);
    const dy = 0.01 * width * Math.sin(2 * phase);
    const left = Math.round(clamp(focus.x * photoWidth - width / 2 + dx, photoWidth - width));
    const top = Math.round(clamp(focus.y * photoHeight - height / 2 + dy, photoHeight - height));
    return { left, top, width, height };
  });
  crops.forEach((c, i) => {
    const before = crops[(i + frames - 1) % frames];
    if (frames > 1 && c.width === before.width && c.left === before.left && c.top === before.top) {
      throw new RangeError(`frames ${i} and the one before it would be the same: a photo too small for ${frames} frames`);
    }
  });
  return crops;
}

/** The photo's pixels for one frame: auto-oriented, cropped, resized to 640×480, 8-bit RGB. */
export async function frameRgb(photo: Buffer, crop: Crop): Promise<Buffer> {
  return sharp(photo).autoOrient().extract(crop).resize(Y4M_WIDTH, Y4M_HEIGHT, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
}

/** BT.601 studio-swing RGB → I420 (Y plane, then U and V at half resolution, each chroma
 *  sample from the mean of its 2×2 block), the layout a Y4M `C420jpeg` frame carries. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Buffer {
  const ySize = width * height;
  const cw = width >> 1;
  const ch = height >> 1;
  const out = Buffer.alloc(ySize + 2 * cw * ch);
  for (let i = 0, p = 0; i < ySize; i++, p += 3) {
    out[i] = Math.round(16 + (65.481 * rgb[p] + 128.553 * rgb[p + 1] + 24.966 * rgb[p + 2]) / 255);
  }
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [ox, oy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const p = ((2 * cy + oy) * width + 2 * cx + ox) * 3;
        r += rgb[p];
        g += rgb[p + 1];
        b += rgb[p + 2];
      }
      r /= 4;
      g /= 4;
      b /= 4;
      const c = cy * cw + cx;
      out[ySize + c] = Math.round(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255);
      out[ySize + cw * ch + c] = Math.round(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  return out;
}

export function y4mHeader(): string {
  return `YUV4MPEG2 W${Y4M_WIDTH} H${Y4M_HEIGHT} F${Y4M_FPS}:1 Ip A1:1 C420jpeg\n`;
}

/** A Y4M clip made from `photo` (any format sharp reads). */
export async function photoToY4m(photo: Buffer, options: ClipOptions = {}): Promise<Buffer> {
  const { width, height } = (await sharp(photo).metadata()).autoOrient;
  const parts: Buffer[] = [Buffer.from(y4mHeader(), 'ascii')];
  for (const crop of motionCrops(width, height, options)) {
    parts.push(Buffer.from('FRAME\n', 'ascii'), rgbToI420(await frameRgb(photo, crop), Y4M_WIDTH, Y4M_HEIGHT));
  }
  return Buffer.concat(parts);
}

/** Writes the clip for `photo` to `file` (what `--use-file-for-fake-video-capture` takes). */
export async function writeY4m(photo: Buffer, file: string, options: ClipOptions = {}): Promise<string> {
  await writeFile(file, await photoToY4m(photo, options));
  return file;
}
