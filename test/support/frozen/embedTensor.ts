// Frozen copy of toTensor from src/face/embed.ts at 4973316, before the speed work: the reference that
// test/face/fastCrops.test.ts compares faceTensorData with, byte for byte. Do not optimise it.
import * as ort from 'onnxruntime-node';
import type { RecognizerInput } from '../../../src/face/embed.ts';
import type { RgbImage } from '../../../src/face/types.ts';

export function toTensor(face: RgbImage, input: RecognizerInput, table: Float32Array, mirrored: boolean): ort.Tensor {
  const { width: w, height: h } = face;
  const plane = w * h;
  const data = new Float32Array(3 * plane);
  const order = input.color === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const rgb = order[c];
    const out = data.subarray(c * plane, (c + 1) * plane);
    const lut = table.subarray(rgb * 256, rgb * 256 + 256);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[y * w + x] = lut[face.data[3 * (y * w + (mirrored ? w - 1 - x : x)) + rgb]];
    }
  }
  return new ort.Tensor('float32', data, [1, 3, h, w]);
}
