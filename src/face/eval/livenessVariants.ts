/**
 * Cheaper liveness set-ups scored from one run of the full ensemble: a capture's per-frame,
 * per-model P(live) (as the pipeline reports them) give the score any subset of the models and
 * any number of the burst's first frames would have produced, combined the way the pipeline
 * combines them — the mean over the ensemble's models per frame (ensemble.ts), then
 * aggregateLiveness over the frames — so no model runs twice.
 */
import { aggregateLiveness } from '../liveness/ensemble.ts';

/** One scored capture: per used frame (in burst order), P(live) by model file. */
export interface ScoredCapture {
  id: string;
  /** `live` for bona fide captures, else the attack species. */
  species: string;
  frames: Record<string, number>[];
  /** Why a bona fide capture is kept out of the calibration (livenessSources.ts's notCameraLike), or null. */
  excluded: string | null;
}

export interface LivenessVariant {
  /** e.g. `pad-trio × 3 frames`, `facenox × 1 frame`. */
  label: string;
  models: string[];
  frames: number;
}

/** Short names for the report; the model file name otherwise. */
export function modelShortName(file: string): string {
  if (file.includes('MobileFaceNetPv4')) return 'Pv4';
  if (file.startsWith('facenox')) return 'facenox';
  if (file.startsWith('hyperfas')) return 'HyperFAS';
  return file.replace(/\.onnx$/, '');
}

/**
 * Every non-empty subset of `models` with 1..maxFrames frames, the full set with deployedFrames
 * first (the pipeline as deployed), then by cost: fewer model runs per capture first.
 */
export function livenessVariants(models: string[], maxFrames: number, fullName: string, deployedFrames = maxFrames): LivenessVariant[] {
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << models.length; mask++) subsets.push(models.filter((_, i) => mask & (1 << i)));
  const all: LivenessVariant[] = [];
  for (const subset of subsets) {
    for (let frames = 1; frames <= maxFrames; frames++) {
      const name = subset.length === models.length ? fullName : subset.map(modelShortName).join('+');
      all.push({ label: `${name} × ${frames} frame${frames > 1 ? 's' : ''}`, models: subset, frames });
    }
  }
  const isFull = (v: LivenessVariant) => v.models.length === models.length && v.frames === deployedFrames;
  return all.sort((a, b) => Number(isFull(b)) - Number(isFull(a)) || a.models.length * a.frames - b.models.length * b.frames || b.models.length - a.models.length);
}

/**
 * The capture's aggregate score under a variant, or null when the capture has no frame scored by
 * all of the variant's models. Frames beyond `variant.frames` are not used, as if never scored.
 */
export function variantScore(capture: ScoredCapture, variant: LivenessVariant): number | null {
  const perFrame: number[] = [];
  for (const frame of capture.frames.slice(0, variant.frames)) {
    if (!variant.models.every((m) => typeof frame[m] === 'number')) return null;
    let sum = 0;
    for (const m of variant.models) sum += frame[m];
    perFrame.push(sum / variant.models.length);
  }
  return perFrame.length === 0 ? null : aggregateLiveness(perFrame);
}
