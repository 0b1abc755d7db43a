/**
 * Piscina worker: one frame processor per worker thread, its ONNX sessions loaded once when the
 * worker starts. Typed errors cross the thread boundary as plain data, because structured clone
 * keeps neither the class nor the `code` of an Error.
 */
import sharp from 'sharp';
import { workerData } from 'piscina';
import { isFacegateError } from '../errors.ts';
import { createFrameProcessor, type FrameProcessorOptions, type FrameResult, type Purpose } from './frame.ts';

export type FrameTask = { bytes: Uint8Array; purpose: Purpose };
export type FrameOutcome = { ok: true; result: FrameResult } | { ok: false; code: string; message: string; status: number };

// The pool already runs one worker per core: libvips threads would only contend with them.
sharp.concurrency(1);
const processor = await createFrameProcessor((workerData ?? {}) as FrameProcessorOptions);

export default async function processFrameTask(task: FrameTask): Promise<FrameOutcome> {
  try {
    return { ok: true, result: await processor.process(task.bytes, task.purpose) };
  } catch (e) {
    if (isFacegateError(e)) return { ok: false, code: e.code, message: e.message, status: e.status };
    throw e;
  }
}
