/**
 * Piscina worker: one frame processor per worker thread, its ONNX sessions loaded once when the
 * worker starts. A frame drawn for liveness is scored in the task that analyses it, on the pixels
 * this thread decoded: a decoded frame (0.9 MB at 640×480) never crosses threads — copying it
 * into shared memory cost ≈ 3 ms a frame on this machine (a fresh SharedArrayBuffer and its
 * copy), more than the crops it fed. Typed errors cross the thread boundary as plain data, because
 * structured clone keeps neither the class nor the `code` of an Error.
 */
import sharp from 'sharp';
import { workerData } from 'piscina';
import { isFacegateError } from '../errors.ts';
import { createFrameProcessor, type FrameAnalysis, type FrameLivenessResult, type FrameProcessorOptions, type Purpose } from './frame.ts';
import { QualityError } from './quality.ts';
import type { Detection } from './types.ts';

/**
 * `analyse`: one frame; with `livenessWithinYawDeg` set, also its liveness when its face is turned
 * no further than that (the pipeline's frontal rule; Infinity: any). `liveness`: a frame analysed
 * earlier, scored on the detection analyse found (decoded again: the fallback when the frame drawn
 * first could not be scored).
 */
export type FrameTask =
  | { step: 'analyse'; bytes: Uint8Array; purpose: Purpose; livenessWithinYawDeg: number | null }
  | { step: 'liveness'; bytes: Uint8Array; detection: Detection };
/** `yawDeg`: the head pose of a face that failed a quality gate; null when no face was measured. */
export type FrameFailure = { ok: false; code: string; message: string; status: number; yawDeg: number | null };
export type LivenessOutcome = { ok: true; result: FrameLivenessResult } | FrameFailure;
/** The analysis without its pixels; `liveness`: null when the task did not score it. */
export type AnalyseOutcome = { ok: true; result: Omit<FrameAnalysis, 'image'>; liveness: LivenessOutcome | null } | FrameFailure;
export type FrameOutcome = AnalyseOutcome | LivenessOutcome;

// The pool already runs one worker per core: libvips threads would only contend with them.
sharp.concurrency(1);
const processor = await createFrameProcessor((workerData ?? {}) as FrameProcessorOptions);

function failure(e: unknown): FrameFailure {
  if (isFacegateError(e)) return { ok: false, code: e.code, message: e.message, status: e.status, yawDeg: e instanceof QualityError ? e.yawDeg : null };
  throw e;
}

async function scored(run: () => Promise<FrameLivenessResult>): Promise<LivenessOutcome> {
  try {
    return { ok: true, result: await run() };
  } catch (e) {
    return failure(e);
  }
}

export default async function processFrameTask(task: FrameTask): Promise<FrameOutcome> {
  if (task.step === 'liveness') return scored(async () => processor.liveness(await processor.decode(task.bytes), task.detection));
  let analysis: FrameAnalysis;
  try {
    analysis = await processor.analyse(task.bytes, task.purpose);
  } catch (e) {
    return failure(e);
  }
  const { image, ...result } = analysis;
  const limit = task.livenessWithinYawDeg;
  const liveness = limit !== null && !(Math.abs(result.quality.pose.yawDeg) > limit) ? await scored(() => processor.liveness(image, result.detection)) : null;
  return { ok: true, result, liveness };
}
