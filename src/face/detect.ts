/**
 * Face detection with YuNet (MIT) on onnxruntime-node: every face with its box, score and 5
 * landmarks, in the pixels of the input image. `detectDominantFace` is the pipeline's rule
 * that a capture shows exactly one face that matters.
 */
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ConfigError, InputError } from '../errors.ts';
import { boxShrink } from './boxShrink.ts';
import { loadManifest, openModelSession, type ModelLocation } from './models.ts';
import type { Detection, Point, RgbImage } from './types.ts';

export type DetectOptions = ModelLocation & {
  /** Detector model file from the manifest. */
  model?: string;
  /** Longer side (px) of the picture the detector sees, border included. */
  inputSize?: number;
  /** A cheaper first look (null: none): the image shrunk by the integer factor that brings its
   *  longer side nearest above this (boxShrink.ts). It counts when it finds exactly one confident
   *  face, at least `fastMinFacePx` wide there; otherwise (no face, a small one, or several: the
   *  face.multiple decision is the full look's) the image is looked at at `inputSize`. */
  fastInputSize?: number | null;
  /** Width (px, as the detector saw it in the first look) a face needs for that look to count. */
  fastMinFacePx?: number;
  /** Border added on every side, as a fraction of the image's longer side. */
  border?: number;
  /** A face wider than this (px, as the detector saw it) is detected again at a smaller scale:
   *  YuNet's landmarks degrade on faces that fill its input (measured, see the pipeline report). */
  maxFacePx?: number;
  /** Face width (px) the second pass aims for. */
  refineFacePx?: number;
  /** Border of the second pass, so a tight face crop gets the context the detector was trained on. */
  refineBorder?: number;
  /** Minimum face score (√(cls·obj)). Every labelled face in ../shared/faces scores ≥ 0.85 and
   *  every PAD sample ≥ 0.93, while background false positives (crowd blur, a painting) score
   *  0.6–0.77 and would otherwise make a capture `face.multiple`. */
  scoreThreshold?: number;
  /** IoU above which the lower-scored of two boxes is dropped. */
  nmsThreshold?: number;
};

export const defaultDetectOptions = {
  inputSize: 640,
  fastInputSize: null as number | null,
  fastMinFacePx: 64,
  border: 0,
  maxFacePx: 256,
  refineFacePx: 150,
  refineBorder: 0.3,
  scoreThreshold: 0.8,
  nmsThreshold: 0.3,
};

const strides = [8, 16, 32] as const;
/** Grey border: neutral for the detector, unlike mirrored or repeated edges that can form faces. */
const borderColour = { r: 127, g: 127, b: 127 };

type Prepared = { tensor: ort.Tensor; scale: number; offset: number };

/**
 * The detector's input buffers (3.7 MB at 640×480, 0.9 MB for the first look at 320×256), one
 * spare per size kept between frames: allocating and zeroing them per frame cost more than
 * filling them. Taken while a pass runs, so two passes in flight on one thread (the evaluation
 * runs them concurrently) never share one.
 */
const spareInputs = new Map<number, Float32Array>();
function takeInput(n: number): Float32Array {
  const buffer = spareInputs.get(n) ?? new Float32Array(n);
  spareInputs.delete(n);
  return buffer;
}

/** Resize to `inputSize` on the longer side (border included), add the border, pad bottom/right to ×32, BGR float NCHW. */
async function prepare(image: RgbImage, inputSize: number, border: number): Promise<Prepared> {
  const longer = Math.max(image.width, image.height);
  const borderPx = border * longer;
  const scale = inputSize / (longer + 2 * borderPx);
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  const b = Math.round(borderPx * scale);
  const padW = Math.ceil((w + 2 * b) / 32) * 32;
  const padH = Math.ceil((h + 2 * b) / 32) * 32;
  // A frame already at the detector's size (a 640×480 camera frame) skips sharp: only the
  // padding to ×32 is added, in the conversion below.
  const direct = w === image.width && h === image.height && b === 0;
  const raw = direct
    ? image.data
    : await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .resize(w, h, { fit: 'fill' })
        .extend({ top: b, left: b, bottom: padH - h - b, right: padW - w - b, background: borderColour })
        .raw()
        .toBuffer();
  const rawW = direct ? w : padW;
  const rawH = direct ? h : padH;
  const data = takeInput(3 * padW * padH);
  writeDetectorInput(raw, rawW, rawH, padW, padH, data);
  // Border pixels are not part of the image: detections map back through scale and offset.
  return { tensor: new ort.Tensor('float32', data, [1, 3, padH, padW]), scale: w / image.width, offset: b };
}

/**
 * The rawW × rawH RGB bytes as BGR float planes of padW × padH, the padding (right and bottom)
 * grey. Only the padding is filled, not the whole buffer before the pixels overwrite most of it
 * (the first look's 320×240 → 320×256 filled 245 760 values for 15 360 of padding), and each
 * row is a function call, as in the other loops run once per frame (resize.ts, boxShrink.ts).
 * The same values as before (test/face/fastCrops.test.ts compares them).
 */
export function writeDetectorInput(raw: Uint8Array, rawW: number, rawH: number, padW: number, padH: number, data: Float32Array): void {
  const plane = padW * padH;
  for (let y = 0; y < rawH; y++) {
    bgrRow(raw, 3 * y * rawW, rawW, data, y * padW, plane);
    if (rawW < padW) for (let c = 0; c < 3; c++) data.fill(borderColour.r, c * plane + y * padW + rawW, c * plane + (y + 1) * padW);
  }
  if (rawH < padH) for (let c = 0; c < 3; c++) data.fill(borderColour.r, c * plane + rawH * padW, (c + 1) * plane);
}

function bgrRow(raw: Uint8Array, j: number, n: number, data: Float32Array, i: number, plane: number): void {
  for (let end = i + n; i < end; i++, j += 3) {
    data[2 * plane + i] = raw[j];
    data[plane + i] = raw[j + 1];
    data[i] = raw[j + 2];
  }
}

function iou(a: Detection['box'], b: Detection['box']): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.w, b.x + b.w);
  const y2 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** Greedy non-maximum suppression, highest score first. */
export function nonMaxSuppression(detections: Detection[], threshold: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) if (kept.every((k) => iou(k.box, d.box) <= threshold)) kept.push(d);
  return kept;
}

type Settings = typeof defaultDetectOptions;

/** Score above which a first-pass face can trigger the second pass. */
const candidateThreshold = 0.5;

/** One detector pass: every face above the score threshold after NMS, in image pixels, and the scale the detector saw. */
async function detectPass(session: ort.InferenceSession, image: RgbImage, inputSize: number, border: number, o: Settings): Promise<{ faces: Detection[]; scale: number }> {
  const { tensor, scale, offset } = await prepare(image, inputSize, border);
  const [, , padH, padW] = tensor.dims as number[];
  const out = await session.run({ [session.inputNames[0]]: tensor });
  const back = (v: number) => (v - offset) / scale;
  const found: Detection[] = [];
  for (const s of strides) {
    const cols = padW / s;
    const rows = padH / s;
    const cls = out[`cls_${s}`].data as Float32Array;
    const obj = out[`obj_${s}`].data as Float32Array;
    const bbox = out[`bbox_${s}`].data as Float32Array;
    const kps = out[`kps_${s}`].data as Float32Array;
    for (let i = 0; i < rows * cols; i++) {
      const score = Math.sqrt(Math.min(1, Math.max(0, cls[i])) * Math.min(1, Math.max(0, obj[i])));
      if (score < o.scoreThreshold) continue;
      const row = Math.floor(i / cols);
      const col = i % cols;
      const cx = (col + bbox[4 * i]) * s;
      const cy = (row + bbox[4 * i + 1]) * s;
      const w = Math.exp(bbox[4 * i + 2]) * s;
      const h = Math.exp(bbox[4 * i + 3]) * s;
      const landmarks = [0, 1, 2, 3, 4].map((n): Point => [back((kps[10 * i + 2 * n] + col) * s), back((kps[10 * i + 2 * n + 1] + row) * s)]);
      found.push({
        box: { x: back(cx - w / 2), y: back(cy - h / 2), w: w / scale, h: h / scale },
        score,
        landmarks: landmarks as Detection['landmarks'],
      });
    }
  }
  for (const t of Object.values(out)) t.dispose();
  const input = tensor.data as Float32Array;
  // The latest few sizes: a camera frame's two (first look and full look) and room for odd uploads.
  if (spareInputs.size >= 4) spareInputs.delete(spareInputs.keys().next().value!);
  spareInputs.set(input.length, input);
  tensor.dispose();
  return { faces: nonMaxSuppression(found, o.nmsThreshold), scale };
}

/** One pass on the image shrunk k× (boxShrink), its faces mapped back to the image's pixels. */
async function shrunkPass(session: ort.InferenceSession, image: RgbImage, k: number, border: number, o: Settings): Promise<{ faces: Detection[]; scale: number }> {
  const small = boxShrink(image, k);
  const pass = await detectPass(session, small, Math.max(small.width, small.height), border, o);
  const up = ([x, y]: Point): Point => [x * k, y * k];
  const faces = pass.faces.map((f): Detection => ({
    box: { x: f.box.x * k, y: f.box.y * k, w: f.box.w * k, h: f.box.h * k },
    score: f.score,
    landmarks: f.landmarks.map(up) as Detection['landmarks'],
  }));
  return { faces, scale: pass.scale / k };
}

/**
 * Every face YuNet finds, highest score first, in the image's pixel coordinates. When the largest
 * face fills the detector's view (a close-up or a tight crop), a second pass sees the image with
 * a border at the scale that puts that face at `refineFacePx`, and its result is kept.
 */
export async function detectFaces(image: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
  const o: Settings = { ...defaultDetectOptions, ...options };
  const model = options.model ?? loadManifest().defaults.detector;
  const session = await openModelSession(model, options);
  if (!strides.every((st) => session.outputNames.includes(`cls_${st}`) && session.outputNames.includes(`kps_${st}`))) {
    throw new ConfigError(`detector ${model} does not have YuNet's outputs (cls/obj/bbox/kps at strides 8/16/32)`);
  }
  // A face that fills the view scores low (0.55–0.8 on tight crops), so the first pass keeps
  // weaker candidates to decide whether a second look is needed.
  const candidates = { ...o, scoreThreshold: Math.min(o.scoreThreshold, candidateThreshold) };
  const confident = (faces: Detection[]) => faces.filter((f) => f.score >= o.scoreThreshold);
  const longer = Math.max(image.width, image.height);
  const shrink = o.fastInputSize === null ? 1 : Math.floor(longer / o.fastInputSize);
  let first = shrink >= 2 ? await shrunkPass(session, image, shrink, o.border, candidates) : null;
  const lone = first === null ? [] : confident(first.faces);
  if (first === null || lone.length !== 1 || lone[0].box.w * first.scale < o.fastMinFacePx) {
    first = await detectPass(session, image, o.inputSize, o.border, candidates);
  }
  const widest = Math.max(0, ...first.faces.map((f) => f.box.w));
  if (widest * first.scale <= o.maxFacePx) return confident(first.faces);
  const size = Math.round((o.refineFacePx * (1 + 2 * o.refineBorder) * longer) / widest / 32) * 32;
  const second = confident((await detectPass(session, image, Math.min(o.inputSize, Math.max(96, size)), o.refineBorder, o)).faces);
  return second.length > 0 ? second : confident(first.faces);
}

export type DominantFaceOptions = {
  /** A second face at least this fraction of the largest face's area makes the capture ambiguous. */
  secondFaceAreaRatio?: number;
};

/** The capture policy: the largest face; `face.none` without any, `face.multiple` when another face is comparable in size. */
export function dominantFace(detections: Detection[], options: DominantFaceOptions = {}): Detection {
  const ratio = options.secondFaceAreaRatio ?? 0.5;
  if (detections.length === 0) throw new InputError('face.none', 'no face was found in the image', 422);
  const bySize = [...detections].sort((a, b) => b.box.w * b.box.h - a.box.w * a.box.h);
  const [largest, second] = bySize;
  if (second && second.box.w * second.box.h >= ratio * largest.box.w * largest.box.h) {
    throw new InputError('face.multiple', 'more than one face is in the image', 422);
  }
  return largest;
}

/**
 * The main face of a photo by insightface's rule (python-package/insightface/model_zoo/retinaface.py,
 * `detect(max_num=…)`): the highest box area − 2 · squared distance (px²) of the box centre from
 * the image centre (⌊w/2⌋, ⌊h/2⌋), so a centred face beats a larger one at the edge. Other faces
 * are counted, never refused: right for judging a recognizer on web photos, wrong for a login.
 */
export function mainPhotoFace(detections: Detection[], size: { width: number; height: number }): ChosenFace {
  if (detections.length === 0) throw new InputError('face.none', 'no face was found in the image', 422);
  const cx = Math.floor(size.width / 2);
  const cy = Math.floor(size.height / 2);
  const value = ({ box }: Detection) => box.w * box.h - 2 * ((box.x + box.w / 2 - cx) ** 2 + (box.y + box.h / 2 - cy) ** 2);
  const face = detections.reduce((best, d) => (value(d) > value(best) ? d : best));
  return { face, otherFaces: detections.length - 1 };
}

/** How the face a picture is about is chosen: `capture` for a login, `photo` for evaluating on web photos. */
export type FacePolicy = 'capture' | 'photo';

/** The chosen face and how many other faces the detector found beside it. */
export type ChosenFace = { face: Detection; otherFaces: number };

export function chooseFace(detections: Detection[], size: { width: number; height: number }, policy: FacePolicy, options: DominantFaceOptions = {}): ChosenFace {
  if (policy === 'photo') return mainPhotoFace(detections, size);
  return { face: dominantFace(detections, options), otherFaces: detections.length - 1 };
}

/** Detect, then require exactly one dominant face (the capture policy). */
export async function detectDominantFace(image: RgbImage, options: DetectOptions & DominantFaceOptions = {}): Promise<Detection> {
  return dominantFace(await detectFaces(image, options), options);
}
