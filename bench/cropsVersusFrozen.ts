/**
 * The liveness crops and the alignment warp against the code they replaced (test/support/frozen),
 * inside the face step as bench/faceStages.ts runs it (decode, detection, alignment, the three PAD
 * models, embedding), alternating old and new burst by burst in one process, so both see the same
 * caches, heap and JIT state. A crop runs once per frame there, which a tight micro-benchmark does
 * not show (closures re-optimised per call, on-stack-replaced loops deoptimised). Main-thread CPU
 * (process.threadCpuUsage), which leaves out GC helper threads.
 * Usage: node bench/cropsVersusFrozen.ts [iterations]
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { alignFace } from '../src/face/align.ts';
import { decodeImage } from '../src/face/decode.ts';
import { detectFaces, dominantFace } from '../src/face/detect.ts';
import { createRecognizer } from '../src/face/embed.ts';
import { firstLookSize } from '../src/face/frame.ts';
import { openModelSession } from '../src/face/models.ts';
import { facenoxInput } from '../src/face/liveness/facenoxCrop.ts';
import { hyperfasInput } from '../src/face/liveness/hyperfasCrop.ts';
import { scaleCropInput } from '../src/face/liveness/scaleCrop.ts';
import * as oH from '../test/support/frozen/hyperfasCrop.ts';
import * as oF from '../test/support/frozen/facenoxCrop.ts';
import * as oS from '../test/support/frozen/scaleCrop.ts';
import * as oA from '../test/support/frozen/align.ts';
import { FACES_DIR } from '../test/support/shared.ts';
sharp.concurrency(1);
const sources = ['pad/vietmoney/live_1.jpg', 'pad/vietmoney/live_2.jpg', 'pad/silentface/image_T1.jpg', 'pad/khanhngit-ssan/live_1.jpg', 'openface/amy_adams_1.jpg'];
const bursts = await Promise.all(sources.map(async (p) => {
  const upright = await sharp(readFileSync(`${FACES_DIR}/${p}`)).rotate().resize(656, 492, { fit: 'cover' }).toBuffer();
  return Promise.all([0, 4, 8].map((d) => sharp(upright).extract({ left: d, top: d, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer()));
}));
const recognizer = await createRecognizer();
const files = ['2.7_80x80_MobileFaceNetPv4.onnx', 'facenox_98.20_128.onnx', 'hyperfas_224.onnx'];
const sessions = await Promise.all(files.map((f) => openModelSession(f)));
type In = { data: Float32Array; dims: number[] };
const paths = {
  old: { inputs: [(i: any, b: any) => oS.scaleCropInput(i, b, 2.7), oF.facenoxInput, oH.hyperfasInput] as Array<(i: any, b: any) => In>, align: oA.alignFace },
  new: { inputs: [(i: any, b: any) => scaleCropInput(i, b, 2.7), facenoxInput, hyperfasInput] as Array<(i: any, b: any) => In>, align: alignFace },
};
const cpu: Record<string, number> = { 'old liveness': 0, 'new liveness': 0, 'old align': 0, 'new align': 0, 'old crop0': 0, 'new crop0': 0, 'old crop1': 0, 'new crop1': 0, 'old crop2': 0, 'new crop2': 0, 'old run0': 0, 'new run0': 0, 'old run1': 0, 'new run1': 0, 'old run2': 0, 'new run2': 0 };
const n: Record<string, number> = { old: 0, new: 0 };
// crop0/run0: Silent-Face 80×80 (scale 2.7), crop1/run1: facenox, crop2/run2: HyperFAS.
const t = () => { const c = process.threadCpuUsage(); return c.user + c.system; };
const iterations = Number(process.argv[2] ?? 20);
for (let i = 0; i < iterations + 1; i++) {
  for (const [bi, burst] of bursts.entries()) {
    const v = (i + bi) % 2 ? 'old' : 'new';
    if (i > 0) n[v]++;
    for (const [k, f] of burst.entries()) {
      const image = await decodeImage(f);
      const detection = dominantFace(await detectFaces(image, k === 0 ? {} : { fastInputSize: firstLookSize }));
      let c0 = t();
      const aligned = paths[v].align(image, detection.landmarks);
      if (i > 0) cpu[`${v} align`] += t() - c0;
      if (k === 0) {
        c0 = t();
        for (let m = 0; m < 3; m++) {
          let c1 = t();
          const input = paths[v].inputs[m](image, detection.box);
          if (i > 0) cpu[`${v} crop${m}`] += t() - c1;
          const s = sessions[m];
          c1 = t();
          const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) });
          if (i > 0) cpu[`${v} run${m}`] += t() - c1;
          for (const o of Object.values(out)) o.dispose();
        }
        if (i > 0) cpu[`${v} liveness`] += t() - c0;
      }
      await recognizer.embed(aligned);
    }
  }
}
for (const [k, c] of Object.entries(cpu)) console.log(k.padEnd(14), (c / 1000 / n[k.split(' ')[0]]).toFixed(2), 'ms CPU per step');
