/**
 * CPU time of each JavaScript pre-processing function of one face step, alone, on one thread:
 * a 640×480 frame (a PAD photo resized with sharp), its detected face, each function run 100
 * times after a warm-up, timed with process.cpuUsage. The ONNX sessions are not included; compare
 * runs on the same machine at a similar load average (the figures move by ±30 % with the load).
 * Usage: node bench/cropCosts.ts [photo under ../shared/faces] [runs]
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { alignFace } from '../src/face/align.ts';
import { boxShrink } from '../src/face/boxShrink.ts';
import { decodeImage } from '../src/face/decode.ts';
import { detectFaces, dominantFace } from '../src/face/detect.ts';
import { createRecognizer, faceTensorData, normalisationTable } from '../src/face/embed.ts';
import { facenoxInput } from '../src/face/liveness/facenoxCrop.ts';
import { hyperfasInput } from '../src/face/liveness/hyperfasCrop.ts';
import { scaleCropInput } from '../src/face/liveness/scaleCrop.ts';
import { round } from './harness.ts';
import { FACES_DIR } from '../test/support/shared.ts';

sharp.concurrency(1);
const photo = process.argv[2] ?? 'pad/vietmoney/live_1.jpg';
const runs = Number(process.argv[3] ?? 100);
const jpeg = await sharp(readFileSync(`${FACES_DIR}/${photo}`)).rotate().resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
const image = await decodeImage(jpeg);
const face = dominantFace(await detectFaces(image));
console.log(`${photo}: face ${Math.round(face.box.w)}×${Math.round(face.box.h)}`);

function cpuMs(f: () => unknown): number {
  for (let i = 0; i < 20; i++) f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / runs;
}

const { input } = await createRecognizer();
const table = normalisationTable(input);
const aligned = alignFace(image, face.landmarks);
const cases: Array<[string, () => unknown]> = [
  ['hyperfasInput', () => hyperfasInput(image, face.box)],
  ['facenoxInput', () => facenoxInput(image, face.box)],
  ['scaleCropInput', () => scaleCropInput(image, face.box, 2.7)],
  ['alignFace', () => alignFace(image, face.landmarks)],
  ['faceTensorData', () => faceTensorData(aligned, input, table, true)],
  ['boxShrink 2', () => boxShrink(image, 2)],
];
for (const [name, f] of cases) console.log(`${name.padEnd(16)} ${round(cpuMs(f), 3)} ms CPU per call`);
