/**
 * The yardstick of issue 12: a PLAIN pipeline with the project's model files, which on held-out data
 * beat the project's stages. The evaluation runs it beside them on the same decoded photos so the
 * report shows whether the stages match or beat it. Its definition, exactly as the issue gives it:
 * YuNet on the image scaled to 640 px on its long side in ONE pass (score ≥ 0.6); the main face by
 * insightface's rule; Umeyama similarity to the 5-point ArcFace template; ONE bilinear warp of the
 * original image straight to 112×112 (no anti-aliasing, no second detection pass); ImageNet mean/std;
 * embedding of the face plus its mirror image, summed, L2-normalised.
 * It reuses the project's pieces that ARE that definition (YuNet's session and output decoding,
 * given the scaled image at its own size so no further resize happens; mainPhotoFace;
 * umeyamaSimilarity; the model session) and keeps its own scaling, warp and embedding, so work on
 * the project's stages (resize kernel, second pass, anti-aliased warp, embed preprocessing) never
 * moves the yardstick. Not for production: it has no quality gates and no capture policy.
 */
import * as ort from 'onnxruntime-node';
import { arcfaceReference, alignedSize, invertSimilarity, umeyamaSimilarity, type Similarity } from '../align.ts';
import { detectFaces, mainPhotoFace } from '../detect.ts';
import { l2Normalize } from '../embed.ts';
import { loadManifest, openModelSession, type ModelLocation } from '../models.ts';
import type { Detection, RgbImage } from '../types.ts';

/** The settings: the detector's one view of the photo, and its score threshold. */
export const PLAIN_LONG_SIDE = 640;
export const PLAIN_SCORE_THRESHOLD = 0.6;
/** YuNet's own NMS IoU (OpenCV's FaceDetectorYN default), fixed here so the project's default cannot move it. */
const PLAIN_NMS_THRESHOLD = 0.3;
/** ImageNet mean/std on the 0..255 scale, RGB: the recognizer's upstream convention (models/MODELS.md). */
const IMAGENET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255];
const IMAGENET_STD = [0.229 * 255, 0.224 * 255, 0.225 * 255];

/**
 * The image at `longSide` px on its long side, in one bilinear resize with OpenCV's INTER_LINEAR
 * geometry (source = (dst + ½)·ratio − ½ per axis, edges clamped, no anti-aliasing), as
 * `cv2.resize` does before a detector. Enlarges as well as shrinks. `ratioX/Y` = source px per output px.
 */
export function scaleToLongSide(img: RgbImage, longSide: number): { image: RgbImage; ratioX: number; ratioY: number } {
  const s = longSide / Math.max(img.width, img.height);
  const width = Math.max(1, Math.round(img.width * s));
  const height = Math.max(1, Math.round(img.height * s));
  const ratioX = img.width / width;
  const ratioY = img.height / height;
  const axis = (n: number, ratio: number, size: number) => {
    const lo = new Int32Array(n);
    const frac = new Float64Array(n);
    for (let d = 0; d < n; d++) {
      const src = (d + 0.5) * ratio - 0.5;
      let i = Math.floor(src);
      let f = src - i;
      if (i < 0) [i, f] = [0, 0];
      if (i >= size - 1) [i, f] = [size - 1, 0];
      lo[d] = i;
      frac[d] = f;
    }
    return { lo, frac };
  };
  const xs = axis(width, ratioX, img.width);
  const ys = axis(height, ratioY, img.height);
  const out = new Uint8Array(width * height * 3);
  const src = img.data;
  const stride = 3 * img.width;
  for (let v = 0; v < height; v++) {
    const fy = ys.frac[v];
    const row0 = ys.lo[v] * stride;
    const row1 = fy > 0 ? row0 + stride : row0;
    for (let u = 0; u < width; u++) {
      const fx = xs.frac[u];
      const p = row0 + 3 * xs.lo[u];
      const q = row1 + 3 * xs.lo[u];
      const dx = fx > 0 ? 3 : 0;
      for (let c = 0; c < 3; c++) {
        const top = src[p + c] * (1 - fx) + src[p + dx + c] * fx;
        const bottom = src[q + c] * (1 - fx) + src[q + dx + c] * fx;
        out[3 * (v * width + u) + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { image: { data: out, width, height }, ratioX, ratioY };
}

/**
 * `cv2.warpAffine(img, M, (width, height))` with INTER_LINEAR and a black constant border: output
 * pixel (u, v) is ONE bilinear sample of the source at t⁻¹(u, v), however much t shrinks.
 */
export function warpBilinear(img: RgbImage, t: Similarity, width: number, height: number): RgbImage {
  const inv = invertSimilarity(t);
  const out = new Uint8Array(width * height * 3);
  const at = (x: number, y: number, c: number) => (x < 0 || y < 0 || x >= img.width || y >= img.height ? 0 : img.data[3 * (y * img.width + x) + c]);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const x = inv.a * u - inv.b * v + inv.tx;
      const y = inv.b * u + inv.a * v + inv.ty;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const fx = x - x0, fy = y - y0;
      for (let c = 0; c < 3; c++) {
        const top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx;
        const bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx;
        out[3 * (v * width + u) + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { data: out, width, height };
}

/** The face as the recognizer's NCHW RGB tensor, ImageNet mean/std, optionally mirrored left–right. */
function imagenetTensor(face: RgbImage, mirrored: boolean): ort.Tensor {
  const { width: w, height: h } = face;
  const plane = w * h;
  const data = new Float32Array(3 * plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = 3 * (y * w + (mirrored ? w - 1 - x : x));
      for (let c = 0; c < 3; c++) data[c * plane + y * w + x] = (face.data[p + c] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
    }
  }
  return new ort.Tensor('float32', data, [1, 3, h, w]);
}

/** L2-normalise(embedding(face) + embedding(mirror image of face)). */
export async function flipSumEmbedding(session: ort.InferenceSession, face: RgbImage): Promise<Float32Array> {
  const run = async (mirrored: boolean) => {
    const out = await session.run({ [session.inputNames[0]]: imagenetTensor(face, mirrored) });
    return Float32Array.from(out[session.outputNames[0]].data as Float32Array);
  };
  const [v, m] = [await run(false), await run(true)];
  for (let i = 0; i < v.length; i++) v[i] += m[i];
  return l2Normalize(v);
}

/** What the reference made of one photo: its main face (photo pixels), the other faces it saw, the aligned crop and the embedding. */
export interface PlainResult {
  face: Detection;
  otherFaces: number;
  aligned: RgbImage;
  embedding: Float32Array;
}

export interface PlainReference {
  detector: string;
  recognizer: string;
  /** Throws InputError `face.none` when YuNet finds no face at ≥ 0.6 in its one view. */
  run(image: RgbImage): Promise<PlainResult>;
}

/** The reference with the manifest's default detector and recognizer (the project's model files). */
export async function createPlainReference(location: ModelLocation = {}): Promise<PlainReference> {
  const { detector, recognizer } = loadManifest().defaults;
  const session = await openModelSession(recognizer, location);
  return {
    detector,
    recognizer,
    async run(image) {
      const { image: view, ratioX, ratioY } = scaleToLongSide(image, PLAIN_LONG_SIDE);
      // The view is already 640 on its long side: detectFaces only pads it to ×32 and decodes YuNet.
      // maxFacePx Infinity: never a second pass.
      const seen = await detectFaces(view, {
        ...location,
        model: detector,
        inputSize: PLAIN_LONG_SIDE,
        border: 0,
        maxFacePx: Infinity,
        scoreThreshold: PLAIN_SCORE_THRESHOLD,
        nmsThreshold: PLAIN_NMS_THRESHOLD,
      });
      // Back to photo pixels through the resize's own geometry (pixel centres), its exact inverse.
      const toX = (x: number) => (x + 0.5) * ratioX - 0.5;
      const toY = (y: number) => (y + 0.5) * ratioY - 0.5;
      const inPhoto = seen.map(({ box, score, landmarks }): Detection => ({
        box: { x: toX(box.x), y: toY(box.y), w: box.w * ratioX, h: box.h * ratioY },
        score,
        landmarks: landmarks.map(([x, y]) => [toX(x), toY(y)]) as Detection['landmarks'],
      }));
      const { face, otherFaces } = mainPhotoFace(inPhoto, image);
      const aligned = warpBilinear(image, umeyamaSimilarity(face.landmarks, arcfaceReference), alignedSize, alignedSize);
      return { face, otherFaces, aligned, embedding: await flipSumEmbedding(session, aligned) };
    },
  };
}
