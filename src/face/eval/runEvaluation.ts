/**
 * Runs the real face stages (decode → detect → align → embed; liveness on the PAD set) over an
 * evaluation layout and computes the report figures. Embeddings stay in this process's memory and
 * are dropped when it returns; only scores and counts leave.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isFacegateError } from '../../errors.ts';
import { alignFace } from '../align.ts';
import { decodeImage } from '../decode.ts';
import { detectDominantFace } from '../detect.ts';
import { cosine, createRecognizer, type RecognizerInput } from '../embed.ts';
import { createLivenessEnsemble, runLivenessModel } from '../liveness/ensemble.ts';
import { livenessModelSpecs } from '../liveness/livenessModels.ts';
import { loadManifest, modelEntry } from '../models.ts';
import { assessQuality, qualityPresets } from '../quality.ts';
import type { Detection, RgbImage } from '../types.ts';
import { clopperPearson, type RateWithInterval } from './binomialInterval.ts';
import { padMetrics, thresholdAtBpcer, type PadMetrics } from './padMetrics.ts';
import { areaUnderRoc, countAtLeast, errorTradeoff, FMR_TARGETS, verificationMetrics, type FmrTarget, type VerificationMetrics } from './verificationMetrics.ts';
import { percentile, round } from '../../stats.ts';

/** A recognizer set-up to measure: a manifest model with an input convention. */
export interface RecognizerCandidate {
  label: string;
  model: string;
  input: Partial<RecognizerInput>;
}

const imagenet = {
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255] as [number, number, number],
  std: [0.229 * 255, 0.224 * 255, 0.225 * 255] as [number, number, number],
};
const centred = { mean: [127.5, 127.5, 127.5] as [number, number, number], std: [128, 128, 128] as [number, number, number] };

/** The foamliu MobileFaceNet set-ups the issue asks to compare: both normalisations, with and without flip. */
export function foamliuCandidates(model = 'mobilefacenet_foamliu_128d.onnx'): RecognizerCandidate[] {
  return [
    { label: 'ImageNet mean/std + flip', model, input: { ...imagenet, flip: true } },
    { label: 'ImageNet mean/std', model, input: { ...imagenet, flip: false } },
    { label: '(x−127.5)/128 + flip', model, input: { ...centred, flip: true } },
    { label: '(x−127.5)/128', model, input: { ...centred, flip: false } },
  ];
}

/** A photo no larger than this on both sides is a tight face crop (faceapi/, face_recognition_js/, the aligned 160×160). */
const TIGHT_CROP_MAX_SIDE = 160;

export interface Timing {
  p50: number;
  p99: number;
  n: number;
}

export interface SubsetFigures extends Omit<VerificationMetrics, 'atFmr'> {
  identities: number;
  images: number;
  fnmrAtFmr: Record<FmrTarget, number | null>;
  thresholdAtFmr: Record<FmrTarget, number | null>;
  fnmrAtFmrInterval: Record<FmrTarget, RateWithInterval | null>;
  fmrAtFmrThreshold: Record<FmrTarget, RateWithInterval | null>;
}

export interface CandidateFigures {
  label: string;
  model: string;
  license: string;
  input: RecognizerInput;
  isDefault: boolean;
  all: SubsetFigures;
  fullPhotos: SubsetFigures | null;
  tightCrops: SubsetFigures | null;
  /** Down-sampled (FMR, FNMR) points for the DET plot. */
  det: Array<{ fmr: number; fnmr: number }>;
  meanGenuine: number;
  maxImpostor: number;
  /** The highest-scoring impostor pairs and lowest-scoring genuine pairs (file names), to inspect by eye. */
  hardestImpostors: Array<{ a: string; b: string; score: number }>;
  hardestGenuines: Array<{ a: string; b: string; score: number }>;
}

export interface PadSample {
  file: string;
  species: string;
  /** Score by ensemble name, or the failure code when no single face was found. */
  scores: Record<string, { score: number; perModel: Record<string, number> }>;
  failure: string | null;
}

export interface PadEnsembleFigures extends PadMetrics {
  ensemble: string;
  rule: string;
  minLiveScore: number | null;
  maxAttackScore: number | null;
}

/** How well one liveness model alone separates bona fide from attacks on these samples. */
export interface PadModelFigures {
  model: string;
  license: string;
  /** P(live ranked above attack), ties ½. */
  auc: number | null;
  minLiveScore: number | null;
  maxAttackScore: number | null;
}

/** A threshold chosen by a stated rule, with the error rates it gives on this data. */
export interface ChosenThreshold {
  value: number;
  rule: string;
  fmr?: RateWithInterval;
  fnmr?: RateWithInterval;
}

export interface EvaluationResult {
  /** Null where this data cannot support the choice (too few impostor pairs or no bona fide samples). */
  thresholds: { match: ChosenThreshold | null; liveness: ChosenThreshold | null };
  data: string;
  verification: SubsetFigures & { recognizer: string; input: RecognizerInput; candidates: CandidateFigures[] };
  pad: PadEnsembleFigures & { ensembles: PadEnsembleFigures[]; models: PadModelFigures[]; samples: PadSample[] };
  detection: {
    images: number;
    failures: number;
    byReason: Record<string, number>;
    failedFiles: Array<{ file: string; code: string }>;
    padImages: number;
    padFailures: number;
  };
  quality: { preset: 'verify'; assessed: number; passed: number; failedByReason: Record<string, number> };
  timingsMs: Record<string, Timing>;
  /** Context for the timings: the machine is shared, so load matters. */
  machine: { cpus: number; loadAverage: number[]; loadAverageAtEnd: number[] };
}

export interface EvaluationOptions {
  /** Layout root: identities/<id>/*, pad/<species>/*. */
  data: string;
  candidates?: RecognizerCandidate[];
  ensembles?: string[];
  /** BPCER target for the liveness threshold. */
  bpcerTarget?: number;
  /** Rounds the liveness threshold down to this step, a margin for so few bona fide samples. */
  livenessThresholdStep?: number;
  onProgress?: (message: string) => void;
}

const imageFile = /\.(jpe?g|png|webp)$/i;

function listImages(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => imageFile.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function listDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() || d.isSymbolicLink())
    .map((d) => d.name)
    .sort();
}


class Stopwatch {
  readonly samples: Record<string, number[]> = {};
  async time<T>(stage: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      (this.samples[stage] ??= []).push(performance.now() - t0);
    }
  }
  summary(): Record<string, Timing> {
    const out: Record<string, Timing> = {};
    for (const [stage, v] of Object.entries(this.samples)) {
      out[stage] = { p50: round(percentile(v, 50), 2), p99: round(percentile(v, 99), 2), n: v.length };
    }
    return out;
  }
}


function failureCode(e: unknown): string {
  if (isFacegateError(e)) return e.code;
  throw e;
}

interface FaceImage {
  identity: string;
  file: string;
  tight: boolean;
  detection: Detection;
  aligned: RgbImage;
}

function subsetFigures(images: FaceImage[], scores: (i: number, j: number) => number, keep: (a: FaceImage, b: FaceImage) => boolean): SubsetFigures | null {
  const genuine: number[] = [];
  const impostor: number[] = [];
  const used = new Set<number>();
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) {
      if (!keep(images[i], images[j])) continue;
      (images[i].identity === images[j].identity ? genuine : impostor).push(scores(i, j));
      used.add(i);
      used.add(j);
    }
  }
  if (genuine.length === 0 || impostor.length === 0) return null;
  const m = verificationMetrics(genuine, impostor);
  const pick = <T>(f: (k: FmrTarget) => T) => Object.fromEntries(FMR_TARGETS.map((k) => [k, f(k)])) as Record<FmrTarget, T>;
  const { atFmr, ...rest } = m;
  return {
    ...rest,
    identities: new Set([...used].map((i) => images[i].identity)).size,
    images: used.size,
    fnmrAtFmr: pick((k) => atFmr[k]?.fnmr.rate ?? null),
    thresholdAtFmr: pick((k) => atFmr[k]?.threshold ?? null),
    fnmrAtFmrInterval: pick((k) => atFmr[k]?.fnmr ?? null),
    fmrAtFmrThreshold: pick((k) => atFmr[k]?.fmr ?? null),
  };
}

/** Thins the DET curve to points at least 0.01 decade apart (zeros counted at 1e-6), keeping its ends. */
function downsample(points: Array<{ fmr: number; fnmr: number }>): Array<{ fmr: number; fnmr: number }> {
  const log = (v: number) => Math.log10(Math.max(v, 1e-6));
  const out: Array<{ fmr: number; fnmr: number }> = [];
  for (const [i, p] of points.entries()) {
    const last = out[out.length - 1];
    if (!last || i === points.length - 1 || Math.abs(log(p.fmr) - log(last.fmr)) >= 0.01 || Math.abs(log(p.fnmr) - log(last.fnmr)) >= 0.01) {
      out.push(p);
    }
  }
  return out;
}

function sameInput(a: RecognizerInput, b: RecognizerInput): boolean {
  const near = (x: number[], y: number[]) => x.every((v, i) => Math.abs(v - y[i]) < 1e-6);
  return a.size === b.size && a.color === b.color && a.flip === b.flip && near(a.mean, b.mean) && near(a.std, b.std);
}

export async function runEvaluation(options: EvaluationOptions): Promise<EvaluationResult> {
  const log = options.onProgress ?? (() => {});
  const loadAverage = os.loadavg();
  const manifest = loadManifest();
  const watch = new Stopwatch();
  const defaultRecognizer = await createRecognizer();
  const candidates = options.candidates ?? foamliuCandidates(manifest.defaults.recognizer);
  const recognizers = await Promise.all(candidates.map((c) => createRecognizer({ model: c.model, input: c.input })));
  let defaultIndex = recognizers.findIndex((r) => r.name === defaultRecognizer.name && sameInput(r.input, defaultRecognizer.input));
  if (defaultIndex < 0) {
    candidates.push({ label: 'manifest default', model: defaultRecognizer.name, input: defaultRecognizer.input });
    recognizers.push(defaultRecognizer);
    defaultIndex = recognizers.length - 1;
  }

  // Verification images: one dominant face each, or a failure reason.
  const byReason: Record<string, number> = {};
  const failedFiles: Array<{ file: string; code: string }> = [];
  const faces: FaceImage[] = [];
  const qualityFailures: Record<string, number> = {};
  let qualityPassed = 0;
  let identityImages = 0;
  const identitiesDir = path.join(options.data, 'identities');
  for (const identity of listDirs(identitiesDir)) {
    for (const file of listImages(path.join(identitiesDir, identity))) {
      identityImages++;
      const bytes = new Uint8Array(readFileSync(file));
      try {
        const image = await watch.time('decode', () => decodeImage(bytes));
        const detection = await watch.time('detect', () => detectDominantFace(image));
        const aligned = await watch.time('align', () => alignFace(image, detection.landmarks));
        const quality = assessQuality(detection, aligned, qualityPresets.verify);
        if (quality.pass) qualityPassed++;
        for (const r of quality.reasons) qualityFailures[r] = (qualityFailures[r] ?? 0) + 1;
        faces.push({
          identity,
          file: path.basename(file),
          tight: image.width <= TIGHT_CROP_MAX_SIDE && image.height <= TIGHT_CROP_MAX_SIDE,
          detection,
          aligned,
        });
      } catch (e) {
        const code = failureCode(e);
        byReason[code] = (byReason[code] ?? 0) + 1;
        failedFiles.push({ file: path.basename(file), code });
      }
    }
  }
  log(`identities: ${faces.length}/${identityImages} images with one face`);

  const candidateFigures: CandidateFigures[] = [];
  let defaultScores: { genuine: number[]; impostor: number[] } | undefined;
  for (let c = 0; c < recognizers.length; c++) {
    const recognizer = recognizers[c];
    const embeddings: Float32Array[] = [];
    for (const f of faces) {
      embeddings.push(c === defaultIndex ? await watch.time('embed', () => recognizer.embed(f.aligned)) : await recognizer.embed(f.aligned));
    }
    const n = faces.length;
    const matrix = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) matrix[i * n + j] = cosine(embeddings[i], embeddings[j]);
    const score = (i: number, j: number) => matrix[i * n + j];
    const all = subsetFigures(faces, score, () => true);
    if (!all) throw new Error('the layout needs at least two identities with two images each');
    const genuine: number[] = [];
    const impostor: number[] = [];
    const hardestImpostors: Array<{ a: string; b: string; score: number }> = [];
    const hardestGenuines: Array<{ a: string; b: string; score: number }> = [];
    const keepHardest = (list: typeof hardestImpostors, item: (typeof hardestImpostors)[number], worse: (x: number, y: number) => boolean) => {
      if (list.length < 5 || worse(item.score, list[list.length - 1].score)) {
        list.push(item);
        list.sort((x, y) => (worse(x.score, y.score) ? -1 : 1));
        if (list.length > 5) list.pop();
      }
    };
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const same = faces[i].identity === faces[j].identity;
        (same ? genuine : impostor).push(score(i, j));
        const item = { a: faces[i].file, b: faces[j].file, score: round(score(i, j), 4) };
        if (same) keepHardest(hardestGenuines, item, (x, y) => x < y);
        else keepHardest(hardestImpostors, item, (x, y) => x > y);
      }
    }
    if (c === defaultIndex) defaultScores = { genuine, impostor };
    candidateFigures.push({
      label: candidates[c].label,
      model: recognizer.name,
      license: modelEntry(recognizer.name).license,
      input: recognizer.input,
      isDefault: c === defaultIndex,
      all,
      fullPhotos: subsetFigures(faces, score, (a, b) => !a.tight && !b.tight),
      tightCrops: subsetFigures(faces, score, (a, b) => a.tight && b.tight),
      det: downsample(errorTradeoff(genuine, impostor).map(({ fmr, fnmr }) => ({ fmr: round(fmr, 7), fnmr: round(fnmr, 7) }))),
      meanGenuine: genuine.reduce((a, b) => a + b, 0) / genuine.length,
      maxImpostor: Math.max(...impostor),
      hardestImpostors,
      hardestGenuines,
    });
    log(`recognizer ${candidates[c].label}: AUC ${all.auc.toFixed(4)}`);
  }

  // PAD: every sample through decode → detect → each ensemble.
  const ensembleNames = options.ensembles ?? [manifest.defaults.liveness, ...Object.keys(manifest.liveness).filter((e) => e !== manifest.defaults.liveness)];
  const ensembles = await Promise.all(ensembleNames.map((e) => createLivenessEnsemble(e)));
  const padModels = [...new Set(ensembleNames.flatMap((e) => manifest.liveness[e] ?? []))].filter((m) => livenessModelSpecs[m]);
  const samples: PadSample[] = [];
  const padDir = path.join(options.data, 'pad');
  let padFailures = 0;
  for (const species of listDirs(padDir)) {
    for (const file of listImages(path.join(padDir, species))) {
      const sample: PadSample = { file: path.basename(file), species, scores: {}, failure: null };
      try {
        const image = await watch.time('decode', () => decodeImage(new Uint8Array(readFileSync(file))));
        const detection = await watch.time('detect', () => detectDominantFace(image));
        for (const [k, ensemble] of ensembles.entries()) {
          sample.scores[ensemble.name] =
            k === 0 ? await watch.time('liveness', () => ensemble.scoreFrame(image, detection)) : await ensemble.scoreFrame(image, detection);
        }
        // Each model once more on its own, only to time it (the scores above are the same numbers).
        for (const model of padModels) await watch.time(`liveness:${model}`, () => runLivenessModel(model, image, detection));
      } catch (e) {
        sample.failure = failureCode(e);
        padFailures++;
      }
      samples.push(sample);
    }
  }

  const bpcerTarget = options.bpcerTarget ?? 0.05;
  const step = options.livenessThresholdStep ?? 0.05;
  const padFigures: PadEnsembleFigures[] = ensembleNames.map((name) => {
    const scored = samples.filter((s) => s.scores[name]);
    const live = scored.filter((s) => s.species === 'live').map((s) => s.scores[name].score);
    const attacks: Record<string, number[]> = {};
    for (const s of scored.filter((x) => x.species !== 'live')) (attacks[s.species] ??= []).push(s.scores[name].score);
    const atTarget = thresholdAtBpcer(live, bpcerTarget);
    // Without bona fide samples nothing can be calibrated: report at the neutral 0.5.
    const threshold = atTarget === null ? 0.5 : Math.floor(atTarget / step) * step;
    const allAttacks = Object.values(attacks).flat();
    return {
      ensemble: name,
      rule: `highest threshold with BPCER ≤ ${bpcerTarget * 100}% on the ${live.length} bona fide samples, rounded down to a multiple of ${step}`,
      minLiveScore: live.length ? Math.min(...live) : null,
      maxAttackScore: allAttacks.length ? Math.max(...allAttacks) : null,
      ...padMetrics(live, attacks, round(threshold, 6)),
    };
  });

  const modelFigures: PadModelFigures[] = padModels.map((model) => {
    const scoreOf = (s: PadSample) => Object.values(s.scores).find((e) => model in e.perModel)?.perModel[model];
    const live = samples.filter((s) => s.species === 'live').map(scoreOf).filter((v): v is number => v !== undefined);
    const attack = samples.filter((s) => s.species !== 'live').map(scoreOf).filter((v): v is number => v !== undefined);
    return {
      model,
      license: modelEntry(model).license,
      auc: live.length && attack.length ? areaUnderRoc(live, attack) : null,
      minLiveScore: live.length ? Math.min(...live) : null,
      maxAttackScore: attack.length ? Math.max(...attack) : null,
    };
  });

  const def = candidateFigures[defaultIndex];
  const match = chooseMatchThreshold(def.all, defaultScores!);
  return {
    data: options.data,
    thresholds: {
      match,
      liveness: padFigures[0].bpcer !== null ? { value: padFigures[0].threshold, rule: `${padFigures[0].ensemble}: ${padFigures[0].rule}` } : null,
    },
    verification: { recognizer: def.model, input: def.input, ...def.all, candidates: candidateFigures },
    pad: { ...padFigures[0], ensembles: padFigures, models: modelFigures, samples },
    detection: {
      images: identityImages,
      failures: identityImages - faces.length,
      byReason,
      failedFiles,
      padImages: samples.length,
      padFailures,
    },
    quality: { preset: 'verify', assessed: faces.length, passed: qualityPassed, failedByReason: qualityFailures },
    timingsMs: watch.summary(),
    machine: { cpus: os.availableParallelism(), loadAverage, loadAverageAtEnd: os.loadavg() },
  };
}

/**
 * The match threshold at the lowest FMR target this data can measure (1e-4, DESIGN.md's target,
 * when there are ≥ 10,000 impostor pairs), rounded up to 0.01 so the FMR stays within the target.
 */
function chooseMatchThreshold(all: SubsetFigures, scores: { genuine: number[]; impostor: number[] }): ChosenThreshold | null {
  const target = ([...FMR_TARGETS].reverse() as FmrTarget[]).find((k) => all.thresholdAtFmr[k] !== null);
  if (!target) return null;
  const value = Math.ceil(all.thresholdAtFmr[target]! * 100) / 100;
  const g = [...scores.genuine].sort((a, b) => a - b);
  const im = [...scores.impostor].sort((a, b) => a - b);
  return {
    value,
    rule: `threshold at FMR ${target} on the ${im.length} impostor pairs of the default recognizer, rounded up to 0.01`,
    fmr: clopperPearson(countAtLeast(im, value), im.length),
    fnmr: clopperPearson(g.length - countAtLeast(g, value), g.length),
  };
}
