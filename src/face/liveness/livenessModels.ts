/**
 * How each passive-liveness model file is fed and read: its crop convention and which output is
 * P(live). Kept per file because the three families were trained with different crops and scalings.
 */
import type { RgbImage } from '../types.ts';
import { facenoxInput } from './facenoxCrop.ts';
import { hyperfasInput } from './hyperfasCrop.ts';
import type { ModelInput } from './modelInput.ts';
import { scaleCropInput } from './scaleCrop.ts';

type Box = { x: number; y: number; w: number; h: number };

export interface LivenessModelSpec {
  input(image: RgbImage, box: Box): ModelInput;
  /** Class probabilities from the raw output (softmax of logits, or the sigmoid output as is). */
  probabilities(output: Float32Array): number[];
  /** Index of the live class in `probabilities`. */
  liveIndex: number;
}

export function softmax(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Silent-Face 80×80 models: logits [fake-print, live, fake-replay]; index 1 = live. */
function silentFace(scale: number): LivenessModelSpec {
  return { input: (image, box) => scaleCropInput(image, box, scale), probabilities: softmax, liveIndex: 1 };
}

export const livenessModelSpecs: Record<string, LivenessModelSpec> = {
  '2.7_80x80_MiniFASNetV2.onnx': silentFace(2.7),
  '4_0_0_80x80_MiniFASNetV1SE.onnx': silentFace(4.0),
  '2.7_80x80_MobileFaceNetPv4.onnx': silentFace(2.7),
  // logits [real, spoof]
  'facenox_98.20_128.onnx': { input: facenoxInput, probabilities: softmax, liveIndex: 0 },
  // a single sigmoid output: P(live); spelled out as [P(live), P(spoof)]
  'hyperfas_224.onnx': { input: hyperfasInput, probabilities: (o) => [o[0], 1 - o[0]], liveIndex: 0 },
};
