/**
 * `npm run eval -- liveness [--faces DIR | --data DIR] [--out eval/LIVENESS.md] [--json FILE]`:
 * calibrates the liveness threshold on bona fide captures (labelled photos and pad/live) and
 * attacks (pad/<species>), each a 3-frame burst through the real pipeline, and writes the
 * generated Markdown report (and, on request, the JSON with every capture's scores — an
 * evaluation output, not for the repository). A bad layout is one line on stderr
 * (`error eval.layout: …`, exit 1).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FacegateError, InputError } from '../../errors.ts';
import { repoRoot } from '../models.ts';
import { livenessFrames } from '../pipeline.ts';
import { buildEvalLayout } from './buildLayout.ts';
import { calibrateLiveness } from './livenessCalibration.ts';
import { listLivenessSources } from './livenessSources.ts';
import { renderLivenessReport } from './renderLivenessReport.ts';
import { scoreLivenessCaptures } from './scoreLivenessCaptures.ts';
import { BURST_SHIFTS, captureBurst } from './captureBurst.ts';
import { timeLivenessModels } from './timeLivenessModels.ts';
import { writeAtomic } from './writeAtomic.ts';

/** BPCER per capture the threshold is chosen for (issue 12). */
export const BPCER_TARGET = 0.03;

const usage = `usage: npm run eval -- liveness [--faces DIR | --data DIR] [--out FILE.md] [--json FILE]
  --faces DIR   a collection like ../shared/faces (labels.csv, pad/<source>/); the default
  --data DIR    an evaluation layout: identities/<id>/* and pad/live/* (bona fide), pad/<species>/* (attacks)
  --out FILE    Markdown report (default eval/LIVENESS.md)
  --json FILE   also every capture's per-frame, per-model scores (do not commit)`;

export async function livenessMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { faces: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' } } }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.error(usage);
    return 0;
  }
  if (values.faces && values.data) {
    console.error(usage);
    return 2;
  }
  const out = values.out ?? path.join(repoRoot, 'eval', 'LIVENESS.md');
  const source = values.data ?? values.faces ?? path.join(repoRoot, '..', 'shared', 'faces');
  let scratch: string | undefined;
  const t0 = performance.now();
  try {
    let data = source;
    if (!values.data) {
      scratch = mkdtempSync(path.join(tmpdir(), 'facegate-liveness-'));
      buildEvalLayout(source, scratch);
      data = scratch;
    }
    const sources = listLivenessSources(data, source);
    console.error(`liveness: ${sources.length} captures`);
    const scores = await scoreLivenessCaptures(sources, (m) => console.error(m));
    const kept = scores.scored.filter((c) => c.excluded === null);
    if (!kept.some((c) => c.species === 'live')) throw new InputError('eval.layout', `no bona fide capture of ${source} is usable (${scores.failures.length} refused by the face step, ${scores.scored.length - kept.length} not camera-like)`);
    // Every frame was scored; the deployed set-up is the pipeline's livenessFrames of them.
    const setUp = { frames: BURST_SHIFTS.length, deployedFrames: livenessFrames };
    const calibration = calibrateLiveness(kept, scores.models, scores.ensemble, BPCER_TARGET, setUp);
    // What the same rule gives with every bona fide photo kept: how much the exclusions matter.
    const withExcluded = calibrateLiveness(scores.scored, scores.models, scores.ensemble, BPCER_TARGET, setUp).deployed;
    const seconds = (performance.now() - t0) / 1000;
    // PAD cost per model on the frames of up to 5 bona fide captures (not part of the run time above).
    const timed = kept.filter((c) => c.species === 'live').slice(0, 5).map((c) => sources.find((s) => s.id === c.id)!);
    const frames = (await Promise.all(timed.map(async (s) => (await captureBurst(new Uint8Array(readFileSync(s.file)))).frames))).flat();
    const modelMs = await timeLivenessModels(frames, scores.models);
    const report = { data: path.relative(repoRoot, path.resolve(source)) || '.', generatedAt: new Date().toISOString(), seconds, sources, ...scores, modelMs, modelTimedFrames: frames.length, calibration, withExcluded };
    writeAtomic(out, renderLivenessReport(report));
    if (values.json) writeAtomic(values.json, JSON.stringify(report, null, 2) + '\n');
    console.error(`wrote ${out}${values.json ? `, ${values.json}` : ''} in ${seconds.toFixed(0)} s`);
    return 0;
  } catch (e) {
    if (!(e instanceof FacegateError)) throw e;
    console.error(`error ${e.code}: ${e.message}`);
    return 1;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}
