/**
 * What each PAD model costs on this machine, so cheaper set-ups can be compared in milliseconds
 * rather than model runs (the three models differ several-fold): each model alone, one thread,
 * on the crops of real capture frames (decoded and detected as the pipeline does), after one
 * warm-up run; the median of the runs. Only a cost estimate: the machine may be shared.
 */
import { decodeImage } from '../decode.ts';
import { detectDominantFace } from '../detect.ts';
import { runLivenessModel } from '../liveness/ensemble.ts';

export async function timeLivenessModels(frames: Uint8Array[], models: string[]): Promise<Record<string, number>> {
  const faces = [];
  for (const f of frames) {
    const image = await decodeImage(f);
    faces.push({ image, detection: await detectDominantFace(image) });
  }
  const ms: Record<string, number> = {};
  for (const model of models) {
    await runLivenessModel(model, faces[0].image, faces[0].detection);
    const runs: number[] = [];
    for (const { image, detection } of faces) {
      const t0 = performance.now();
      await runLivenessModel(model, image, detection);
      runs.push(performance.now() - t0);
    }
    runs.sort((a, b) => a - b);
    ms[model] = runs[runs.length >> 1];
  }
  return ms;
}
