/**
 * One frame through every stage, each timed, in two steps a worker pool can schedule apart:
 * `analyse` (decode → detect → align → quality → embed) and `liveness` (on the decoded frame and
 * its detection). Sessions are opened once per processor (one per worker). The embedding is
 * returned to the caller only; it is never logged or put in an error.
 *
 * Every frame takes the detector's cheap first look (detect.ts's fastInputSize: the frame shrunk
 * 2×, looked at again at full size only when that finds no face, a small one or several). The
 * alignment and the PAD crops both use its box: `npm run eval` with it — detection failures, FNMR
 * at FMR 1e-3 and AUC no worse; `npm run eval -- liveness` with the PAD crops on it — the same
 * threshold, BPCER and APCER per species as with a full-size look (eval/LIVENESS.md).
 */
import { alignFace } from './align.ts';
import { decodeImage, defaultDecodeLimits, type DecodeLimits } from './decode.ts';
import { detectFaces, dominantFace, type DetectOptions } from './detect.ts';
import { createRecognizer } from './embed.ts';
import { createLivenessEnsemble } from './liveness/ensemble.ts';
import { loadManifest, resolveModelPath, type ModelLocation } from './models.ts';
import { assessQuality, qualityPresets, requireQuality, type QualityReport } from './quality.ts';
import type { Detection, RgbImage } from './types.ts';

export const stages = ['decode', 'detect', 'align', 'quality', 'liveness', 'embed'] as const;
export type Stage = (typeof stages)[number];

/** Which quality preset applies: strict when a template is made, lenient when one is matched. */
export type Purpose = 'enroll' | 'verify';

export type FrameProcessorOptions = ModelLocation & {
  /** Detector model file (manifest); default `defaults.detector`. */
  detector?: string;
  /** Recognizer model file (manifest); default `defaults.recognizer`. */
  recognizer?: string;
  /** Liveness ensemble name (manifest); default `defaults.liveness`. */
  liveness?: string;
  decodeLimits?: DecodeLimits;
  detect?: Omit<DetectOptions, keyof ModelLocation | 'model'>;
};

/** Longer side of the first look: a 640×480 frame shrunk 2× (YuNet ≈ 1.4 ms instead of 7.8 ms on
 *  one thread). */
export const firstLookSize = 320;

export type FrameAnalysis = {
  /** The decoded frame, for the liveness step on the same thread (worker.ts): it never crosses
   *  threads. */
  image: RgbImage;
  detection: Detection;
  quality: QualityReport;
  embedding: Float32Array;
  timingsMs: Record<Exclude<Stage, 'liveness'>, number>;
};

export type FrameLivenessResult = { score: number; perModel: Record<string, number>; ms: number };

export type FrameProcessor = {
  /** The frame's pixels alone, under the same limits as analyse's decode. */
  decode(bytes: Uint8Array): Promise<RgbImage>;
  analyse(bytes: Uint8Array, purpose: Purpose): Promise<FrameAnalysis>;
  /** `detection`: analyse's, the box the PAD crops are cut around. */
  liveness(image: RgbImage, detection: Detection): Promise<FrameLivenessResult>;
};

/** Every model file a processor with these options needs (checked before anything is loaded). */
export function requiredModels(options: FrameProcessorOptions = {}): string[] {
  const m = loadManifest();
  const liveness = m.liveness[options.liveness ?? m.defaults.liveness] ?? [];
  return [options.detector ?? m.defaults.detector, options.recognizer ?? m.defaults.recognizer, ...liveness];
}

export async function createFrameProcessor(options: FrameProcessorOptions = {}): Promise<FrameProcessor> {
  const location: ModelLocation = 'faceModelsDir' in options ? { faceModelsDir: options.faceModelsDir } : {};
  for (const name of requiredModels(options)) resolveModelPath(name, location);
  const recognizer = await createRecognizer({ ...location, model: options.recognizer });
  const liveness = await createLivenessEnsemble(options.liveness, location);
  const firstLook: DetectOptions = { fastInputSize: firstLookSize, ...options.detect, ...location, model: options.detector };
  const limits = options.decodeLimits ?? defaultDecodeLimits;

  return {
    decode: (bytes) => decodeImage(bytes, limits),
    async analyse(bytes, purpose) {
      const timingsMs = {} as FrameAnalysis['timingsMs'];
      const timed = async <T>(stage: keyof FrameAnalysis['timingsMs'], f: () => T | Promise<T>): Promise<T> => {
        const t0 = performance.now();
        const result = await f();
        timingsMs[stage] = performance.now() - t0;
        return result;
      };
      const image = await timed('decode', () => decodeImage(bytes, limits));
      const detection = await timed('detect', async () => dominantFace(await detectFaces(image, firstLook)));
      const aligned = await timed('align', () => alignFace(image, detection.landmarks));
      const quality = await timed('quality', () => {
        const report = assessQuality(detection, aligned, qualityPresets[purpose]);
        requireQuality(report);
        return report;
      });
      const embedding = await timed('embed', () => recognizer.embed(aligned));
      return { image, detection, quality, embedding, timingsMs };
    },
    async liveness(image, detection) {
      const t0 = performance.now();
      const { score, perModel } = await liveness.scoreFrame(image, detection);
      return { score, perModel, ms: performance.now() - t0 };
    },
  };
}
