/**
 * Passive liveness as its own layer: an ensemble of PAD models (named in models/manifest.json)
 * scores one frame as the mean P(live) of its members; `aggregateLiveness` combines the frames of
 * one capture. The decision threshold lives in ../thresholds.ts, apart from the match threshold.
 */
import * as ort from 'onnxruntime-node';
import { ConfigError } from '../../errors.ts';
import { loadManifest, openModelSession, type ModelLocation } from '../models.ts';
import type { Detection, RgbImage } from '../types.ts';
import { livenessModelSpecs, type LivenessModelSpec } from './livenessModels.ts';

export interface FrameLiveness {
  /** Mean P(live) over the ensemble's models, 0..1. */
  score: number;
  /** P(live) of each model, by model file name. */
  perModel: Record<string, number>;
}

export interface LivenessEnsemble {
  name: string;
  scoreFrame(image: RgbImage, detection: Detection): Promise<FrameLiveness>;
}

/** Class probabilities of one liveness model on one face (used by the ensemble and by upstream checks). */
export async function runLivenessModel(file: string, image: RgbImage, detection: Detection): Promise<number[]> {
  const spec = specOf(file);
  const session = await openModelSession(file);
  return runWith(session, spec, image, detection);
}

function specOf(file: string): LivenessModelSpec {
  const spec = livenessModelSpecs[file];
  if (!spec) throw new ConfigError(`liveness model ${file} has no known input convention`);
  return spec;
}

async function runWith(session: ort.InferenceSession, spec: LivenessModelSpec, image: RgbImage, detection: Detection): Promise<number[]> {
  const input = spec.input(image, detection.box);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
  const out = await session.run(feeds);
  return spec.probabilities(out[session.outputNames[0]].data as Float32Array);
}

/** `location` is where the model files are looked up, as for the other stages. */
export async function createLivenessEnsemble(name?: string, location: ModelLocation = {}): Promise<LivenessEnsemble> {
  const manifest = loadManifest();
  const ensembleName = name ?? manifest.defaults.liveness;
  const files = manifest.liveness[ensembleName];
  if (!files || files.length === 0) throw new ConfigError(`liveness ensemble "${ensembleName}" is not in models/manifest.json`);
  const members = await Promise.all(
    files.map(async (file) => ({ file, spec: specOf(file), session: await openModelSession(file, location) })),
  );
  return {
    name: ensembleName,
    async scoreFrame(image, detection) {
      const perModel: Record<string, number> = {};
      let sum = 0;
      // Sequential on purpose: sessions are single-threaded and the worker pool parallelises frames.
      for (const m of members) {
        const p = (await runWith(m.session, m.spec, image, detection))[m.spec.liveIndex];
        perModel[m.file] = p;
        sum += p;
      }
      return { score: sum / members.length, perModel };
    },
  };
}

/**
 * One liveness score for the frames of a capture: the median. Frames of a burst are nearly the
 * same picture, so disagreement is per-frame noise (blur, compression); the median ignores one
 * outlier either way — one lucky frame cannot carry an attack (as with the mean or max) and one
 * blurred frame cannot fail a live user (as with the min).
 */
export function aggregateLiveness(frameScores: number[]): number {
  if (frameScores.length === 0) throw new RangeError('aggregateLiveness needs at least one frame score');
  const s = [...frameScores].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
