/**
 * The face step for one capture: the frames of a burst run through the stages in a worker pool
 * (one worker per core, sessions loaded once per worker), and come back as one L2-normalised
 * embedding, per-frame and aggregate liveness, per-frame quality and head pose (yaw), and
 * per-stage timings. The plaintext embedding is returned to the caller (the template layer) and
 * nowhere else; the yaw of each frame is a head pose, not biometric data.
 */
import { randomInt } from 'node:crypto';
import os from 'node:os';
import { Piscina } from 'piscina';
import { BusyError, InputError } from '../errors.ts';
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
   *  `face.busy` (503, Retry-After: 1) instead of queueing without bound. Default: 8 bursts of 3 frames. */
  maxQueuedTasks?: number;
  /** Frames of a burst scored for liveness (default livenessFrames); the liveness evaluation
   *  scores every frame to compare set-ups. */
  livenessFrames?: number;
};

/**
 * `verify-active`: a verification whose burst also shows head turns (the loa 3 challenge). Its
 * turned frames are expected: they are matched against the others (one person throughout) but
 * left out of the embedding and of liveness, which use the frontal frames only.
 */
export type BurstPurpose = Purpose | 'verify-active';

/** Largest |yaw| (degrees, quality.ts's estimate) of a frontal frame in a `verify-active` burst:
 *  about 2 σ of the estimate's noise. σ ≈ 4°: on the 241 labelled faces of ../shared/faces, a
 *  photo's yaw and its mirror image's should cancel and their sum is 6° rms (= σ·√2). */
export const frontalMaxYawDeg = 8;
/** Most frames in one burst unless the pipeline is built with another maxFrames (the upload
 *  allows a few more, captureUpload.ts: those are refused here, after the attempt is counted). */
export const DEFAULT_MAX_FRAMES = 10;
/** Frontal frames a `verify-active` burst must keep for the embedding and liveness. */
export const minFrontalFrames = 3;

/**
 * Frames of a burst scored for liveness: one, drawn at random among the used frames. PAD is the
 * step's largest cost (three models and their crops, ≈ 18 ms CPU a frame), and on the calibration
 * data one frame is no worse than three (eval/LIVENESS.md, `npm run eval -- liveness`: pad-trio ×
 * 1 frame at the same threshold 0.43, BPCER 0/146, APCER print 0/2, replay 1/5; × 3 frames: 0/146,
 * 0/2, 2/5). Random, not the first: the frames are committed (hashed into the signed challenge)
 * before the server draws, so a burst that splices a live face into photos is scored on a photo
 * with the photos' share of probability.
 */
export const livenessFrames = 1;

/** `yawDeg`: the head pose of the frame's face (positive: turned to the person's own left, see
 *  quality.ts's estimatePose), or null when no face was measured. `face.turned`: a frame of a
 *  `verify-active` burst past the frontal limit, matched with the others but not aggregated. */
export type FrameReport =
  | { index: number; used: true; yawDeg: number; quality: QualityReport; livenessPerModel: Record<string, number> | null }
  | { index: number; used: false; code: string; yawDeg: number | null };

export type BurstResult = {
  /** Mean of the used frames' embeddings, L2-normalised. Plaintext biometric: hand it to the template layer only. */
  embedding: Float32Array;
  /** P(live) of each scored frame (in frame order; livenessFrames of the used ones) and their aggregate. */
  liveness: { ensemble: string; perFrame: number[]; aggregate: number };
  /** What happened to each frame: its quality report, or why it was left out. */
  quality: { frames: FrameReport[]; usedFrames: number };
  /** Per stage: milliseconds summed over the frames (compute); `total`: wall time of the burst. */
  timingsMs: Record<Stage | 'total', number>;
};

export type FacePipeline = {
  processBurst(frames: Uint8Array[], purpose: BurstPurpose): Promise<BurstResult>;
  close(): Promise<void>;
};

/** `frontal`: false for a turned frame of a `verify-active` burst, which is matched but not used.
 *  `liveness` is null for a frame that was not scored (turned, or not drawn). */
type FrameRun = { ok: true; analysis: Omit<FrameAnalysis, 'image'>; frontal: boolean; liveness: FrameLivenessResult | null } | FrameFailure;
type Embedded = Extract<FrameRun, { ok: true }>;

/**
 * Codes that reject the whole burst: a malformed upload, or a second person in view. A frame
 * without a face or failing a quality gate is only left out, as long as most frames remain.
 */
const burstFatal = (code: string) => code.startsWith('image.') || code === 'face.multiple';

/** Frames a `verify-active` burst expects to lose: a head turned past the pose gate, or so far
 *  that no face is found. They do not count against the burst. */
const expectedLoss = (purpose: BurstPurpose, code: string) => purpose === 'verify-active' && (code === 'quality.pose' || code === 'face.none');

/**
 * The burst's embedding after the frame policy: fatal codes reject the burst, most frames that
 * are not expected to be lost must remain (in a `verify-active` burst, at least minFrontalFrames
 * frontal ones), and every pair of embedded frames — turned ones included — must match. The
 * embedding is the mean of the used frames. Per-frame embeddings are wiped, whatever the
 * outcome: only the aggregate leaves the pipeline.
 */
function aggregateEmbedding(outcomes: FrameRun[], purpose: BurstPurpose): Float32Array {
  const embedded = outcomes.filter((o): o is Embedded => o.ok);
  const used = embedded.filter((r) => r.frontal);
  try {
    const fatal = outcomes.find((o) => !o.ok && burstFatal(o.code));
    if (fatal && !fatal.ok) throw new InputError(fatal.code, fatal.message, fatal.status);
    const lost = outcomes.filter((o) => !o.ok && expectedLoss(purpose, o.code)).length;
    const counted = outcomes.length - lost - (embedded.length - used.length);
    if (used.length * 2 <= counted || used.length < (purpose === 'verify-active' ? minFrontalFrames : 1)) {
      const first = outcomes.find((o) => !o.ok && !expectedLoss(purpose, o.code));
      if (first && !first.ok) throw new InputError(first.code, first.message, first.status);
      throw new InputError('face.too_few_frontal', `at least ${minFrontalFrames} frames must show the face looking straight at the camera`, 422);
    }
    // Frames of one capture show one person: a spliced-in photo of someone else is refused.
    for (let i = 0; i < embedded.length; i++) {
      for (let j = i + 1; j < embedded.length; j++) {
        if (cosine(embedded[i].analysis.embedding, embedded[j].analysis.embedding) < matchThreshold) {
          throw new InputError('face.inconsistent', 'the frames do not show the same face', 422);
        }
      }
    }
    const sum = new Float32Array(used[0].analysis.embedding.length);
    for (const r of used) for (let k = 0; k < sum.length; k++) sum[k] += r.analysis.embedding[k];
    return l2Normalize(sum);
  } finally {
    for (const r of embedded) r.analysis.embedding.fill(0);
  }
}

/** 0..n−1 shuffled (Fisher–Yates) with the CSPRNG: the caller must not predict the draw. */
function randomOrder(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Starts the pool; a missing or altered model file fails here, naming the file. */
export function createFacePipeline(options: PipelineOptions = {}): FacePipeline {
  const { threads = os.availableParallelism(), maxFrames = DEFAULT_MAX_FRAMES, maxQueuedTasks = 48, livenessFrames: scoredFrames = livenessFrames, ...processorOptions } = options;
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
        throw new BusyError('face.busy', 'face verification is busy; retry in a second', 1);
      }
      const t0 = performance.now();
      // The frames are analysed in a random order and the first usable ones in it are scored.
      // The frames drawn first are scored in the task that analyses them (on that worker's
      // decoded pixels, worker.ts) while the other worker analyses the rest; a drawn frame that
      // turns out unusable, or whose scoring fails, passes the draw on to the next frame in the
      // order, scored in a task of its own. The quality gates of an active burst are verify's:
      // its turned frames pass them; only frontal frames are scored.
      const preset: Purpose = purpose === 'verify-active' ? 'verify' : purpose;
      const maxYaw = purpose === 'verify-active' ? frontalMaxYawDeg : Number.POSITIVE_INFINITY;
      const order = randomOrder(frames.length);
      const analysed: Promise<AnalyseOutcome>[] = new Array(frames.length);
      order.forEach((i, k) => {
        analysed[i] = pool.run({ step: 'analyse', bytes: frames[i], purpose: preset, livenessWithinYawDeg: k < scoredFrames ? maxYaw : null }) as Promise<AnalyseOutcome>;
      });
      const runs: Promise<FrameRun>[] = new Array(frames.length);
      let scoredBefore: Promise<number> = Promise.resolve(0);
      for (const i of order) {
        const earlier = scoredBefore;
        const run = (async (): Promise<{ run: FrameRun; scored: number }> => {
          const a = await analysed[i];
          if (!a.ok) return { run: a, scored: 0 };
          const yawDeg = a.result.quality.pose.yawDeg;
          const frontal = purpose !== 'verify-active' || Math.abs(yawDeg) <= frontalMaxYawDeg;
          if (!frontal || (await earlier) >= scoredFrames) return { run: { ok: true, analysis: a.result, frontal, liveness: null }, scored: 0 };
          const l = a.liveness ?? ((await pool.run({ step: 'liveness', bytes: frames[i], detection: a.result.detection })) as LivenessOutcome);
          return l.ok ? { run: { ok: true, analysis: a.result, frontal, liveness: l.result }, scored: 1 } : { run: { ...l, yawDeg }, scored: 0 };
        })();
        runs[i] = run.then((r) => r.run);
        scoredBefore = Promise.all([earlier, run]).then(([n, r]) => n + r.scored);
      }
      // Only the runs are awaited: a failed task rejects them, and the count with it unobserved.
      scoredBefore.catch(() => {});
      const outcomes = await Promise.all(runs);
      const total = performance.now() - t0;

      const embedding = aggregateEmbedding(outcomes, purpose);
      const embedded = outcomes.filter((o): o is Embedded => o.ok);
      const timingsMs = { total } as Record<Stage | 'total', number>;
      for (const s of stages) timingsMs[s] = embedded.reduce((acc, r) => acc + (s === 'liveness' ? (r.liveness?.ms ?? 0) : r.analysis.timingsMs[s]), 0);
      const perFrame = embedded.flatMap((r) => (r.liveness ? [r.liveness.score] : []));
      return {
        embedding,
        liveness: { ensemble, perFrame, aggregate: aggregateLiveness(perFrame) },
        quality: {
          frames: outcomes.map((o, index): FrameReport => {
            if (!o.ok) return { index, used: false, code: o.code, yawDeg: o.yawDeg };
            const yawDeg = o.analysis.quality.pose.yawDeg;
            if (!o.frontal) return { index, used: false, code: 'face.turned', yawDeg };
            return { index, used: true, yawDeg, quality: o.analysis.quality, livenessPerModel: o.liveness?.perModel ?? null };
          }),
          usedFrames: embedded.filter((r) => r.frontal).length,
        },
        timingsMs,
      };
    },
    close: () => pool.destroy(),
  };
}
