/**
 * Per-stage cost of the face step on one thread, without the worker pool: the bench's 640×480
 * bursts of 3 frames run stage by stage in this process as the pipeline runs them — every frame
 * with the detector's first look (frame.ts firstLookSize), one of them (drawn for liveness) also
 * through the PAD ensemble. Each stage is measured twice: wall time, and the
 * process's CPU time (user + system) while it alone runs — on a shared, overloaded machine the
 * CPU time is the figure to compare across changes, the wall time is inflated by waiting.
 * Usage: node bench/faceStages.ts [iterations]   (add --cpu-prof to see where the time goes)
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { alignFace } from '../src/face/align.ts';
import { decodeImage } from '../src/face/decode.ts';
import { detectFaces, dominantFace } from '../src/face/detect.ts';
import { createRecognizer } from '../src/face/embed.ts';
import { firstLookSize, stages, type Stage } from '../src/face/frame.ts';
import { createLivenessEnsemble } from '../src/face/liveness/ensemble.ts';
import { assessQuality, qualityPresets } from '../src/face/quality.ts';
import { percentile, round } from './harness.ts';
import { FACES_DIR } from '../test/support/shared.ts';

sharp.concurrency(1);
const sources = ['pad/vietmoney/live_1.jpg', 'pad/vietmoney/live_2.jpg', 'pad/silentface/image_T1.jpg', 'pad/khanhngit-ssan/live_1.jpg', 'openface/amy_adams_1.jpg'];
const iterations = Number(process.argv[2] ?? 20);
const bursts = (
  await Promise.all(
    sources.map(async (p) => {
      const upright = await sharp(readFileSync(`${FACES_DIR}/${p}`)).rotate().resize(656, 492, { fit: 'cover' }).toBuffer();
      return Promise.all([0, 4, 8].map((d) => sharp(upright).extract({ left: d, top: d, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer()));
    }),
  )
);
const recognizer = await createRecognizer();
const ensemble = await createLivenessEnsemble();
const wall: Record<string, number[]> = Object.fromEntries(stages.map((s) => [s, []]));
const cpu: Record<string, number> = Object.fromEntries(stages.map((s) => [s, 0]));
async function timed<T>(stage: Stage, f: () => T | Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  wall[stage].push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu[stage] += (c.user + c.system) / 1000;
  return r;
}
for (let i = 0; i < iterations + 1; i++) {
  if (i === 1) for (const s of stages) (wall[s] = []), (cpu[s] = 0); // the first round warms up
  for (const burst of bursts) {
    for (const [k, f] of burst.entries()) {
      const scored = k === 0;
      const image = await timed('decode', () => decodeImage(f));
      const detection = await timed('detect', async () => dominantFace(await detectFaces(image, { fastInputSize: firstLookSize })));
      const aligned = await timed('align', () => alignFace(image, detection.landmarks));
      await timed('quality', () => assessQuality(detection, aligned, qualityPresets.verify));
      if (scored) await timed('liveness', () => ensemble.scoreFrame(image, detection));
      await timed('embed', () => recognizer.embed(aligned));
    }
  }
}
const steps = iterations * bursts.length;
let sumCpu = 0;
for (const s of stages) {
  sumCpu += cpu[s] / steps;
  const runs = wall[s].length;
  console.log(`${s.padEnd(10)} cpu ${round(cpu[s] / runs, 2).toString().padStart(6)} ms per run, ${round(cpu[s] / steps, 2).toString().padStart(6)} per step   wall min ${round(Math.min(...wall[s]), 2)} p50 ${round(percentile(wall[s], 50), 2)} ms per run`);
}
console.log(`total      cpu ${round(sumCpu, 2).toString().padStart(6)} ms per 3-frame step (${steps} steps): ${round(2000 / sumCpu, 1)} steps/s on 2 cores at most`);
