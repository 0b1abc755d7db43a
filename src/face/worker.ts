/**
 * Piscina worker: one frame processor per worker thread, its ONNX sessions loaded once when the
 * worker starts. Typed errors cross the thread boundary as plain data, because structured clone
 * keeps neither the class nor the `code` of an Error.
 */
import sharp from 'sharp';
import { workerData } from 'piscina';
import { isFacegateError } from '../errors.ts';
import { createFrameProcessor, type FrameAnalysis, type FrameLivenessResult, type FrameProcessorOptions, type Purpose } from './frame.ts';
import { QualityError } from './quality.ts';
import type { Detection, RgbImage } from './types.ts';

export type FrameTask = { step: 'analyse'; bytes: Uint8Array; purpose: Purpose } | { step: 'liveness'; image: RgbImage; detection: Detection };
/** `yawDeg`: the head pose of a face that failed a quality gate; null when no face was measured. */
export type FrameFailure = { ok: false; code: string; message: string; status: number; yawDeg: number | null };
export type AnalyseOutcome = { ok: true; result: FrameAnalysis } | FrameFailure;
export type LivenessOutcome = { ok: true; result: FrameLivenessResult } | FrameFailure;
export type FrameOutcome = AnalyseOutcome | LivenessOutcome;

// The pool already runs one worker per core: libvips threads would only contend with them.
sharp.concurrency(1);
const processor = await createFrameProcessor((workerData ?? {}) as FrameProcessorOptions);

export default async function processFrameTask(task: FrameTask): Promise<FrameOutcome> {
  try {
    if (task.step === 'analyse') return { ok: true, result: await processor.analyse(task.bytes, task.purpose) };
    return { ok: true, result: await processor.liveness(task.image, task.detection) };
  } catch (e) {
    if (isFacegateError(e)) return { ok: false, code: e.code, message: e.message, status: e.status, yawDeg: e instanceof QualityError ? e.yawDeg : null };
    throw e;
  }
}
