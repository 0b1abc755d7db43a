/**
 * Each capture source as a 3-frame burst (captureBurst.ts) through the real face pipeline
 * (createFacePipeline, purpose `verify`, as at login): the per-frame, per-model P(live) it reports
 * are kept for livenessVariants.ts. A burst the pipeline refuses before liveness (no face, a
 * quality gate, frames that disagree) is a failure with its code, not a liveness decision. The
 * pipeline's own aggregate is checked against the variants' arithmetic, so a change in how the
 * pipeline combines models or frames fails the calibration instead of silently skewing it.
 */
import { readFileSync } from 'node:fs';
import { isFacegateError } from '../../errors.ts';
import { aggregateLiveness } from '../liveness/ensemble.ts';
import { loadManifest } from '../models.ts';
import { createFacePipeline } from '../pipeline.ts';
import { captureBurst } from './captureBurst.ts';
import { notCameraLike, type CaptureSource } from './livenessSources.ts';
import type { ScoredCapture } from './livenessVariants.ts';

export interface CaptureFailure {
  id: string;
  species: string;
  code: string;
}

export interface ScoredCaptures {
  ensemble: string;
  models: string[];
  scored: ScoredCapture[];
  failures: CaptureFailure[];
  /** Wall time of each burst in the pipeline (ms), as the face step would take it here. */
  burstMs: number[];
}

/** Bursts in flight at once: enough to keep every worker busy while the next photo is framed. */
const inFlight = 3;

function checkAggregate(id: string, frames: Record<string, number>[], perFrame: number[], aggregate: number): void {
  const tolerance = 1e-6;
  frames.forEach((f, i) => {
    const values = Object.values(f);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    if (Math.abs(mean - perFrame[i]) > tolerance) throw new Error(`${id}: the pipeline's frame score ${perFrame[i]} is not the mean of its models (${mean}); update livenessVariants.ts`);
  });
  if (Math.abs(aggregateLiveness(perFrame) - aggregate) > tolerance) throw new Error(`${id}: the pipeline's aggregate ${aggregate} is not aggregateLiveness of its frames; update livenessVariants.ts`);
}

export async function scoreLivenessCaptures(sources: CaptureSource[], onProgress: (message: string) => void = () => {}): Promise<ScoredCaptures> {
  // Every frame scored, in burst order: the set-ups with fewer frames take the first ones.
  const pipeline = createFacePipeline({ livenessFrames: Number.POSITIVE_INFINITY });
  const ensemble = loadManifest().defaults.liveness;
  const scored: ScoredCapture[] = [];
  const failures: CaptureFailure[] = [];
  const burstMs: number[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < sources.length) {
      const source = sources[next++];
      try {
        const burst = await captureBurst(new Uint8Array(readFileSync(source.file)));
        const t0 = performance.now();
        const r = await pipeline.processBurst(burst.frames, 'verify');
        burstMs.push(performance.now() - t0);
        const perModel = r.quality.frames.flatMap((f) => (f.used && f.livenessPerModel ? [f.livenessPerModel] : []));
        checkAggregate(source.id, perModel, r.liveness.perFrame, r.liveness.aggregate);
        scored.push({ id: source.id, species: source.species, frames: perModel, excluded: source.species === 'live' ? notCameraLike(burst) : null });
      } catch (e) {
        if (!isFacegateError(e)) throw e;
        failures.push({ id: source.id, species: source.species, code: e.code });
      }
      if (++done % 20 === 0) onProgress(`liveness: ${done}/${sources.length} captures`);
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    await pipeline.close();
  }
  const order = new Map(sources.map((s, i) => [s.id, i]));
  const byOrder = (a: { id: string }, b: { id: string }) => order.get(a.id)! - order.get(b.id)!;
  return { ensemble, models: loadManifest().liveness[ensemble], scored: scored.sort(byOrder), failures: failures.sort(byOrder), burstMs };
}
