/**
 * Aligned 112×112 face → L2-normalised embedding. The recognizer is a manifest model (default
 * `defaults.recognizer`); its input normalisation and flip-averaging come from the manifest entry.
 */
import * as ort from 'onnxruntime-node';
import { ConfigError } from '../errors.ts';
import { loadManifest, modelEntry, openModelSession, type ModelLocation } from './models.ts';
import type { RgbImage } from './types.ts';

/** How a recognizer wants its pixels: value' = (value − mean[c]) / std[c], c in RGB order, 0..255 scale. */
export type RecognizerInput = {
  size: number;
  color: 'RGB' | 'BGR';
  mean: [number, number, number];
  std: [number, number, number];
  /** Add the embedding of the horizontally flipped face before normalising. */
  flip: boolean;
};

export type Recognizer = {
  name: string;
  input: RecognizerInput;
  embed(face: RgbImage): Promise<Float32Array>;
};

export type RecognizerOptions = ModelLocation & {
  /** Recognizer model file from the manifest; default `defaults.recognizer`. */
  model?: string;
  /** Overrides the manifest's input convention (used to measure alternatives). */
  input?: Partial<RecognizerInput>;
};

function manifestInput(name: string): RecognizerInput {
  const entry = modelEntry(name);
  if (entry.role !== 'recognizer') throw new ConfigError(`model ${name} is a ${entry.role}, not a recognizer`);
  const i = entry.input as Partial<RecognizerInput> & { shape?: unknown[] };
  if (!Array.isArray(i.mean) || !Array.isArray(i.std) || (i.color !== 'RGB' && i.color !== 'BGR')) {
    throw new ConfigError(`manifest entry ${name} lacks input mean/std/color`);
  }
  return { size: Number(i.shape?.[2] ?? 112), color: i.color, mean: i.mean, std: i.std, flip: i.flip === true };
}

export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

/** Cosine similarity of two L2-normalised embeddings. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** (v − mean[c]) / std[c] for every byte value v and RGB channel c, computed once per recognizer. */
export function normalisationTable(input: RecognizerInput): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) table[c * 256 + v] = (v - input.mean[c]) / input.std[c];
  return table;
}

/**
 * The recognizer's NCHW float input from an RGB face, or from its mirror image. One pass over the
 * face writes all three planes (it was read once per plane, with the mirror test per pixel): the
 * same table values in the same places (test/face/fastCrops.test.ts compares them).
 */
export function faceTensorData(face: RgbImage, input: RecognizerInput, table: Float32Array, mirrored: boolean): Float32Array {
  const { width: w, height: h, data: src } = face;
  const plane = w * h;
  const data = new Float32Array(3 * plane);
  // The RGB channel that goes to each plane, and its table offset.
  const [c0, c1, c2] = input.color === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const [t0, t1, t2] = [c0 * 256, c1 * 256, c2 * 256];
  // Source step per output column: forward, or backward from the row's last pixel.
  const step = mirrored ? -3 : 3;
  for (let y = 0, o = 0; y < h; y++) {
    for (let x = 0, s = 3 * (y * w + (mirrored ? w - 1 : 0)); x < w; x++, o++, s += step) {
      data[o] = table[t0 + src[s + c0]];
      data[plane + o] = table[t1 + src[s + c1]];
      data[2 * plane + o] = table[t2 + src[s + c2]];
    }
  }
  return data;
}

export async function createRecognizer(options: RecognizerOptions = {}): Promise<Recognizer> {
  const name = options.model ?? loadManifest().defaults.recognizer;
  const input = { ...manifestInput(name), ...options.input };
  const session = await openModelSession(name, options);
  const table = normalisationTable(input);
  const run = async (face: RgbImage, mirrored: boolean) => {
    const tensor = new ort.Tensor('float32', faceTensorData(face, input, table, mirrored), [1, 3, face.height, face.width]);
    const out = await session.run({ [session.inputNames[0]]: tensor });
    const result = out[session.outputNames[0]];
    const v = Float32Array.from(result.data as Float32Array);
    tensor.dispose();
    result.dispose();
    return v;
  };
  return {
    name,
    input,
    async embed(face) {
      if (face.width !== input.size || face.height !== input.size) {
        throw new RangeError(`recognizer ${name} takes ${input.size}×${input.size} faces, got ${face.width}×${face.height}`);
      }
      const v = await run(face, false);
      if (input.flip) {
        const f = await run(face, true);
        for (let i = 0; i < v.length; i++) v[i] += f[i];
      }
      return l2Normalize(v);
    },
  };
}
