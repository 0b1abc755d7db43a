/**
 * The face step for one capture: the frames of a burst run through the stages in a worker pool
 * (one worker per core, sessions loaded once per worker), and come back as one L2-normalised
 * embedding, per-frame and aggregate liveness, per-frame quality and per-stage timings.
 * The plaintext embedding is returned to the caller (the template layer) and nowhere else.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { FacegateError, InputError } from '../errors.ts';
import { cosine, l2Normalize } from './embed.ts';
import { requiredModels, stages, type FrameAnalysis, type FrameLivenessResult, type FrameProcessorOptions, type Purpose, type Stage } from './frame.ts';
import { aggregateLiveness } from './liveness/ensemble.ts';
import { loadManifest, resolveModelPath } from './models.ts';
import type { QualityReport } from './quality.ts';
import { matchThreshold } from './thresholds.ts';
import type { AnalyseOutcome, FrameFailure, FrameOutcome, FrameTask, LivenessOutcome } from './worker.ts';

export type PipelineOptions = FrameProcessorOptions & {
  /** Worker threads; default one per core. */
  threads?: number;
  /** Most frames accepted in one burst. */
  maxFrames?: number;
  /** Tasks (two per frame) allowed to wait for a worker; beyond that a burst is refused with
   *  `face.busy` (503) instead of queueing without bound. Default: 8 bursts of 3 frames. */
  maxQueuedTasks?: number;
};

export type FrameReport =
  | { index: number; used: true; quality: QualityReport; livenessPerModel: Record<string, number> }
  | { index: number; used: false; code: string };

export type BurstResult = {
  /** Mean of the used frames' embeddings, L2-normalised. Plaintext biometric: hand it to the template layer only. */
  embedding: Float32Array;
  /** P(live) of each used frame (in frame order) and their aggregate. */
  liveness: { ensemble: string; perFrame: number[]; aggregate: number };
  /** What happened to each frame: its quality report, or why it was left out. */
  quality: { frames: FrameReport[]; usedFrames: number };
  /** Per stage: milliseconds summed over the frames (compute); `total`: wall time of the burst. */
  timingsMs: Record<Stage | 'total', number>;
};

export type FacePipeline = {
  processBurst(frames: Uint8Array[], purpose: Purpose): Promise<BurstResult>;
  close(): Promise<void>;
};

type FrameRun = { ok: true; analysis: FrameAnalysis; liveness: FrameLivenessResult } | FrameFailure;

/**
 * Codes that reject the whole burst: a malformed upload, or a second person in view. A frame
 * without a face or failing a quality gate is only left out, as long as most frames remain.
 */
const burstFatal = (code: string) => code.startsWith('image.') || code === 'face.multiple';

/**
 * The burst's embedding after the frame policy: fatal codes reject the burst, most frames must
 * remain, and every pair of frames must match. Per-frame embeddings are wiped, whatever the
 * outcome: only the aggregate leaves the pipeline.
 */
function aggregateEmbedding(outcomes: FrameRun[], used: Extract<FrameRun, { ok: true }>[], frameCount: number): Float32Array {
  try {
    const fatal = outcomes.find((o) => !o.ok && burstFatal(o.code));
    if (fatal && !fatal.ok) throw new InputError(fatal.code, fatal.message, fatal.status);
    if (used.length * 2 <= frameCount) {
      const first = outcomes.find((o) => !o.ok);
      if (first && !first.ok) throw new InputError(first.code, first.message, first.status);
    }
    // Frames of one capture show one person: a spliced-in photo of someone else is refused.
    for (let i = 0; i < used.length; i++) {
      for (let j = i + 1; j < used.length; j++) {
        if (cosine(used[i].analysis.embedding, used[j].analysis.embedding) < matchThreshold) {
          throw new InputError('face.inconsistent', 'the frames do not show the same face', 422);
        }
      }
    }
    const sum = new Float32Array(used[0].analysis.embedding.length);
    for (const r of used) for (let k = 0; k < sum.length; k++) sum[k] += r.analysis.embedding[k];
    return l2Normalize(sum);
  } finally {
    for (const r of used) r.analysis.embedding.fill(0);
  }
}

/** Starts the pool; a missing or altered model file fails here, naming the file. */
export function createFacePipeline(options: PipelineOptions = {}): FacePipeline {
  const { threads = os.availableParallelism(), maxFrames = 10, maxQueuedTasks = 48, ...processorOptions } = options;
  const location = 'faceModelsDir' in processorOptions ? { faceModelsDir: processorOptions.faceModelsDir } : {};
  for (const name of requiredModels(processorOptions)) resolveModelPath(name, location);
  const ensemble = processorOptions.liveness ?? loadManifest().defaults.liveness;
  const pool = new Piscina<FrameTask, FrameOutcome>({
    filename: new URL('./worker.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    workerData: processorOptions,
  });

  return {
    async processBurst(frames, purpose) {
      if (frames.length === 0) throw new InputError('face.no_frames', 'no frames were uploaded');
      if (frames.length > maxFrames) throw new InputError('face.too_many_frames', `at most ${maxFrames} frames are accepted`);
      if (pool.queueSize + frames.length > maxQueuedTasks) {
        throw new FacegateError('face.busy', 'face verification is busy; retry in a second', 503);
      }
      const t0 = performance.now();
      // Two tasks per frame (analyse, then liveness) keep both workers busy: with whole-frame
      // tasks, 3 frames on 2 workers leave one worker idle while the other does a second frame.
      const runFrame = async (bytes: Uint8Array): Promise<FrameRun> => {
        const a = (await pool.run({ step: 'analyse', bytes, purpose })) as AnalyseOutcome;
        if (!a.ok) return a;
        const l = (await pool.run({ step: 'liveness', image: a.result.image, detection: a.result.detection })) as LivenessOutcome;
        return l.ok ? { ok: true, analysis: a.result, liveness: l.result } : l;
      };
      const outcomes = await Promise.all(frames.map(runFrame));
      const total = performance.now() - t0;

      const used = outcomes.flatMap((o) => (o.ok ? [o] : []));
      const embedding = aggregateEmbedding(outcomes, used, frames.length);
      const timingsMs = { total } as Record<Stage | 'total', number>;
      for (const s of stages) timingsMs[s] = used.reduce((acc, r) => acc + (s === 'liveness' ? r.liveness.ms : r.analysis.timingsMs[s]), 0);
      const perFrame = used.map((r) => r.liveness.score);
      let u = 0;
      return {
        embedding,
        liveness: { ensemble, perFrame, aggregate: aggregateLiveness(perFrame) },
        quality: {
          frames: outcomes.map((o, index): FrameReport => {
            if (!o.ok) return { index, used: false, code: o.code };
            const r = used[u++];
            return { index, used: true, quality: r.analysis.quality, livenessPerModel: r.liveness.perModel };
          }),
          usedFrames: used.length,
        },
        timingsMs,
      };
    },
    close: () => pool.destroy(),
  };
}
