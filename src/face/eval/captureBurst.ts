/**
 * A login capture made from a still photo: what the face page would upload if the person in the
 * photo sat in front of a 640×480 webcam. The largest 4:3 window of the photo, no wider than four
 * face widths (a face at arm's length fills about a quarter of the frame or more), centred on the
 * photo's main face as far as the photo allows; scaled to 656×492 and cut into three 640×480 JPEG
 * frames (quality 90, as faceCapture.js encodes) offset by 0, 4 and 8 px, as bench/face.bench.ts
 * does, like consecutive frames of a burst. The face is found once here only to place the window;
 * the frames then go through the real pipeline like any upload.
 */
import sharp from 'sharp';
import { detectFaces, mainPhotoFace } from '../detect.ts';

export const FRAME_W = 640;
export const FRAME_H = 480;
/** Pixel shift between consecutive frames of a burst (both axes). */
export const BURST_SHIFTS = [0, 4, 8];
/** The window is scaled to this before the frames are cut (bench/face.bench.ts's 656×492). */
const SCENE_W = 656;
const SCENE_H = 492;
/** Widest window, in face widths. */
const maxWindowFaces = 4;
/** Long side at which the face is located (detection only). */
const locateSide = 1024;

type Window = { left: number; top: number; width: number; height: number };

/** The 4:3 window for a face box (photo pixels) in a photo of width × height. */
export function captureWindow(width: number, height: number, face: { x: number; y: number; w: number; h: number }): Window {
  let w = width / height > 4 / 3 ? (height * 4) / 3 : width;
  w = Math.min(w, maxWindowFaces * face.w);
  const h = (w * 3) / 4;
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  const left = Math.round(clamp(face.x + face.w / 2 - w / 2, width - w));
  const top = Math.round(clamp(face.y + face.h / 2 - h / 2, height - h));
  return { left, top, width: Math.min(width - left, Math.round(w)), height: Math.min(height - top, Math.round(h)) };
}

export interface CaptureBurst {
  frames: Buffer[];
  /** How much the window was enlarged to make the frames (> 1: the photo has fewer pixels than a webcam frame there). */
  upscale: number;
  /** The photo has no colour (a webcam frame always has). */
  greyscale: boolean;
}

/** Mean |R−G| + |G−B| per pixel below which a picture is greyscale: in ../shared/faces the 36 grey crops measure 0, the least colourful photo (a sepia Einstein) 5.2. */
const greyscaleChroma = 2;

function isGreyscale(rgb: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += Math.abs(rgb[i] - rgb[i + 1]) + Math.abs(rgb[i + 1] - rgb[i + 2]);
  return sum / (rgb.length / 3) < greyscaleChroma;
}

/** Three JPEG frames of one photo (any size, EXIF-oriented as a camera shows it). Throws `face.none` when the photo shows no face. */
export async function captureBurst(photo: Uint8Array): Promise<CaptureBurst> {
  const small = await sharp(photo)
    .autoOrient()
    .resize({ width: locateSide, height: locateSide, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const image = { data: new Uint8Array(small.data.buffer, small.data.byteOffset, small.data.length), width: small.info.width, height: small.info.height };
  const { face } = mainPhotoFace(await detectFaces(image), image);
  const meta = await sharp(photo).metadata();
  const rotated = (meta.orientation ?? 1) >= 5;
  const width = (rotated ? meta.height : meta.width) ?? image.width;
  const height = (rotated ? meta.width : meta.height) ?? image.height;
  const k = width / image.width;
  const window = captureWindow(width, height, { x: face.box.x * k, y: face.box.y * k, w: face.box.w * k, h: face.box.h * k });
  const scene = await sharp(photo)
    .autoOrient()
    .extract(window)
    .resize(SCENE_W, SCENE_H, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: scene.info.width, height: scene.info.height, channels: scene.info.channels } };
  const frames = await Promise.all(BURST_SHIFTS.map((d) => sharp(scene.data, raw).extract({ left: d, top: d, width: FRAME_W, height: FRAME_H }).jpeg({ quality: 90 }).toBuffer()));
  return { frames, upscale: SCENE_W / window.width, greyscale: isGreyscale(image.data) };
}
