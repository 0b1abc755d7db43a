/**
 * Runs the real face stages (decode → detect → align → embed; liveness on the PAD set) over an
 * evaluation layout and computes the report figures, for either half the layout has: identities/
 * (verification, under both face policies, and a pairs protocol when given, beside issue 12's plain
 * reference on the same decoded photos) and pad/ (liveness).
 * Pair scores are typed arrays, so a web-photo set's tens of millions of pairs fit. Embeddings stay
 * in this process's memory and are dropped when it returns; only scores and counts leave.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { InputError, isFacegateError } from '../../errors.ts';
import { firstLookSize } from '../frame.ts';
import { alignFace } from '../align.ts';
import { decodeImage } from '../decode.ts';
import { chooseFace, detectDominantFace, detectFaces, type FacePolicy } from '../detect.ts';
import { cosine, createRecognizer, type RecognizerInput } from '../embed.ts';
import { createLivenessEnsemble, runLivenessModel } from '../liveness/ensemble.ts';
import { livenessModelSpecs } from '../liveness/livenessModels.ts';
import { loadManifest, modelEntry } from '../models.ts';
import { assessQuality, qualityPresets } from '../quality.ts';
import { strictMatchThreshold } from '../thresholds.ts';
import type { Detection, RgbImage } from '../types.ts';
import { clopperPearson, type RateWithInterval } from './binomialInterval.ts';
import { padMetrics, thresholdAtBpcer, type PadMetrics } from './padMetrics.ts';
import { kFoldAccuracy, parsePairsFile, type ImageRef, type KFoldAccuracy } from './pairsProtocol.ts';
import { createPlainReference } from './plainReference.ts';
import { compareWithReference, type ComparedPhoto, type ReferenceComparison } from './referenceComparison.ts';
import { FRAME_KINDS, frameThroughBoth } from './referenceFrames.ts';
import { areaUnderRoc, countAtLeast, FMR_TARGETS, sortedScores, verificationMetrics, type FmrTarget, type Scores, type VerificationMetrics } from './verificationMetrics.ts';
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

export interface SubsetFigures extends Omit<VerificationMetrics, 'atFmr' | 'det'> {
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

/** The face policies the evaluation reports: `photo` judges the recognizer, `capture` is the login's rule. */
export const FACE_POLICIES = ['photo', 'capture'] as const satisfies readonly FacePolicy[];
/** The policy whose figures head the report and choose the thresholds. */
export const THRESHOLD_POLICY: FacePolicy = 'photo';

/** An operating point is chosen only where at least this many impostor pairs score above it. */
export const MIN_EVENTS = 30;

/** One face policy over the labelled photos: which photos it accepted and the figures of each recognizer set-up. */
export interface PolicyFigures {
  policy: FacePolicy;
  accepted: number;
  byReason: Record<string, number>;
  failedFiles: Array<{ file: string; code: string }>;
  /** Accepted photos where the detector found other faces beside the chosen one. */
  withOtherFaces: number;
  candidates: CandidateFigures[];
  /** k-fold accuracy of the default recognizer on the pairs protocol, when one was given. */
  pairs: (KFoldAccuracy & { unscoredPairs: number }) | null;
}

/** A threshold chosen by a stated rule, with the error rates it gives on this data. */
export interface ChosenThreshold {
  value: number;
  rule: string;
  fmr?: RateWithInterval;
  fnmr?: RateWithInterval;
}

/** The figures of the default recognizer under the threshold policy, with every policy's and set-up's beside them. */
export type VerificationFigures = SubsetFigures & {
  recognizer: string;
  input: RecognizerInput;
  policy: FacePolicy;
  policies: Record<FacePolicy, PolicyFigures>;
  /** The set-up the stated rule prefers (flip-averaging or not, normalisation), under the threshold policy. */
  recommended: { label: string; rule: string } | null;
  pairsProtocol: { file: string; folds: number; pairs: number } | null;
  /** Labelled photos read: each policy's accepted + failed. */
  labelledPhotos: number;
  /** Issue 12's plain reference against the default recognizer: on the same decoded photos (threshold
   *  policy; kinds `full`, `tight`), and on each photo's first 640×480 capture frame (capture policy). */
  reference: { photos: ReferenceComparison; frames: ReferenceComparison };
  quality: { preset: 'verify'; policy: 'capture'; assessed: number; passed: number; failedByReason: Record<string, number> };
};

export type PadFigures = PadEnsembleFigures & { ensembles: PadEnsembleFigures[]; models: PadModelFigures[]; samples: PadSample[]; failures: number };

export interface EvaluationResult {
  /** Null where this data cannot support the choice (too few impostor pairs, no identities/ or no bona fide samples). */
  thresholds: { match: ChosenThreshold | null; strict: ChosenThreshold | null; liveness: ChosenThreshold | null };
  data: string;
  /** Null when the layout has no identities/; PAD null when it has no pad/. */
  verification: VerificationFigures | null;
  pad: PadFigures | null;
  timingsMs: Record<string, Timing>;
  /** Context for the timings: the machine is shared, so load matters. */
  machine: { cpus: number; loadAverage: number[]; loadAverageAtEnd: number[] };
}

export interface EvaluationOptions {
  /** Layout root: identities/<id>/*, pad/<species>/*; either half may be missing. */
  data: string;
  /** A pairs protocol over identities/ (LFW pairs.txt, or a .csv): k-fold accuracy per policy. */
  pairs?: string;
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

/** A labelled photo and the face each policy chose in it (absent: the policy refused, see its failures). */
interface LabelledPhoto {
  identity: string;
  file: string;
  tight: boolean;
  chosen: Partial<Record<FacePolicy, { detection: Detection; aligned: RgbImage; otherFaces: number }>>;
  /** The plain reference's embedding of the same decoded photo, or why it has none. */
  reference: ComparedPhoto['reference'];
}

/** A face a policy accepted, with its embedding under the recognizer being measured. */
interface ScoredFace {
  identity: string;
  file: string;
  tight: boolean;
  embedding: Float32Array;
}

type PairVisitor = (a: ScoredFace, b: ScoredFace, score: number, same: boolean) => void;

/** Cosine scores of every unordered pair `keep` admits, split genuine/impostor, in two passes (count, then fill typed arrays). */
function pairScores(faces: ScoredFace[], keep: (a: ScoredFace, b: ScoredFace) => boolean, visit?: PairVisitor): { genuine: Float32Array; impostor: Float32Array } {
  let nG = 0;
  let nI = 0;
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      if (!keep(faces[i], faces[j])) continue;
      if (faces[i].identity === faces[j].identity) nG++;
      else nI++;
    }
  }
  const genuine = new Float32Array(nG);
  const impostor = new Float32Array(nI);
  nG = 0;
  nI = 0;
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      if (!keep(faces[i], faces[j])) continue;
      const same = faces[i].identity === faces[j].identity;
      const score = cosine(faces[i].embedding, faces[j].embedding);
      if (same) genuine[nG++] = score;
      else impostor[nI++] = score;
      visit?.(faces[i], faces[j], score, same);
    }
  }
  return { genuine, impostor };
}

function subsetFigures(faces: ScoredFace[], keep: (a: ScoredFace, b: ScoredFace) => boolean, visit?: PairVisitor): { figures: SubsetFigures; scores: { genuine: Scores; impostor: Scores }; det: VerificationMetrics['det'] } | null {
  const used = new Set<ScoredFace>();
  const scores = pairScores(faces, keep, (a, b, score, same) => {
    used.add(a);
    used.add(b);
    visit?.(a, b, score, same);
  });
  if (scores.genuine.length === 0 || scores.impostor.length === 0) return null;
  const { atFmr, det, ...rest } = verificationMetrics(scores.genuine, scores.impostor);
  const pick = <T>(f: (k: FmrTarget) => T) => Object.fromEntries(FMR_TARGETS.map((k) => [k, f(k)])) as Record<FmrTarget, T>;
  const figures = {
    ...rest,
    identities: new Set([...used].map((f) => f.identity)).size,
    images: used.size,
    fnmrAtFmr: pick((k) => atFmr[k]?.fnmr.rate ?? null),
    thresholdAtFmr: pick((k) => atFmr[k]?.threshold ?? null),
    fnmrAtFmrInterval: pick((k) => atFmr[k]?.fnmr ?? null),
    fmrAtFmrThreshold: pick((k) => atFmr[k]?.fmr ?? null),
  };
  return { figures, scores, det };
}

/** Keeps the n most extreme pairs (highest impostors or lowest genuines) without sorting them all. */
function hardest(n: number, worse: (x: number, y: number) => boolean) {
  const list: Array<{ a: string; b: string; score: number }> = [];
  return {
    list,
    offer(a: string, b: string, score: number) {
      if (list.length === n && !worse(score, list[n - 1].score)) return;
      list.push({ a, b, score: round(score, 4) });
      list.sort((x, y) => (worse(x.score, y.score) ? -1 : 1));
      if (list.length > n) list.pop();
    },
  };
}

function sameInput(a: RecognizerInput, b: RecognizerInput): boolean {
  const near = (x: number[], y: number[]) => x.every((v, i) => Math.abs(v - y[i]) < 1e-6);
  return a.size === b.size && a.color === b.color && a.flip === b.flip && near(a.mean, b.mean) && near(a.std, b.std);
}

const layoutError = (message: string) => new InputError('eval.layout', message);

/** Which halves the layout has; a bad layout is a one-line `eval.layout` error, not a stack trace. */
function inspectLayout(data: string): { identities: string | null; pad: string | null } {
  if (!existsSync(data) || !statSync(data).isDirectory()) throw layoutError(`${data} is not a directory`);
  const half = (name: string) => {
    const dir = path.join(data, name);
    if (!existsSync(dir)) return null;
    if (!statSync(dir).isDirectory()) throw layoutError(`${dir} is not a directory`);
    return dir;
  };
  const identities = half('identities');
  const pad = half('pad');
  if (!identities && !pad) throw layoutError(`${data} has neither identities/<id>/* nor pad/<species>/*`);
  return { identities, pad };
}

function readPairsFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError('eval.pairs', `${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The image a pairs-file reference names: the file itself, or the file with any image extension. */
function resolvePairImage(photos: LabelledPhoto[]): (ref: ImageRef) => LabelledPhoto | undefined {
  const byKey = new Map<string, LabelledPhoto>();
  for (const p of photos) {
    byKey.set(`${p.identity}/${p.file}`, p);
    byKey.set(`${p.identity}/${p.file.replace(imageFile, '')}`, p);
  }
  return (ref) => byKey.get(`${ref.identity}/${ref.file}`);
}

/**
 * The match threshold at the lowest FMR target with at least MIN_EVENTS impostor pairs above it
 * (never a point resting on a handful of pairs), rounded up to 0.01 so the FMR stays within it.
 */
function chooseMatchThreshold(all: SubsetFigures, scores: { genuine: Scores; impostor: Scores }, policy: FacePolicy): ChosenThreshold | null {
  const events = (k: FmrTarget) => Math.floor(all.impostorPairs * Number(k) + 1e-9);
  const target = ([...FMR_TARGETS].reverse() as FmrTarget[]).find((k) => all.thresholdAtFmr[k] !== null && events(k) >= MIN_EVENTS);
  if (!target) return null;
  const value = Math.ceil(all.thresholdAtFmr[target]! * 100) / 100;
  const g = sortedScores(scores.genuine);
  const im = sortedScores(scores.impostor);
  return {
    value,
    rule: `threshold at FMR ${target}, the lowest FMR target with ≥ ${MIN_EVENTS} impostor pairs above it (${events(target)} of the ${im.length} impostor pairs of the default recognizer, ${policy} policy), rounded up to 0.01`,
    fmr: clopperPearson(countAtLeast(im, value), im.length),
    fnmr: clopperPearson(g.length - countAtLeast(g, value), g.length),
  };
}

/**
 * The deployed loa 3 threshold (thresholds.ts's strictMatchThreshold) measured on this run: its rule
 * is not a FMR target (no FMR point below 1e-3 rests on 30 events here) but "above every impostor
 * pair by the largest quantization error", so the report gives the impostor events at it and the
 * rule-of-three bound they allow, beside its FNMR.
 */
function measureStrictThreshold(scores: { genuine: Scores; impostor: Scores }, policy: FacePolicy): ChosenThreshold | null {
  const g = sortedScores(scores.genuine);
  const im = sortedScores(scores.impostor);
  if (g.length === 0 || im.length === 0) return null;
  const value = strictMatchThreshold;
  const events = countAtLeast(im, value);
  const highest = im[im.length - 1];
  return {
    value,
    rule: `deployed value (not chosen by this run): above every impostor pair of the labelled set by the largest int8 quantization error, rounded up to 0.01; here ${events} of the ${im.length} impostor pairs (default recognizer, ${policy} policy) reach it, the highest impostor scores ${highest.toFixed(3)}`,
    fmr: clopperPearson(events, im.length),
    fnmr: clopperPearson(g.length - countAtLeast(g, value), g.length),
  };
}

/** The set-up with the lowest FNMR at the threshold rule's FMR target, ties to the higher AUC. */
function recommendSetup(candidates: CandidateFigures[], target: FmrTarget): { label: string; rule: string } | null {
  const measured = candidates.filter((c) => c.all.fnmrAtFmr[target] !== null);
  if (measured.length === 0) return null;
  const best = measured.reduce((a, b) => {
    const [fa, fb] = [a.all.fnmrAtFmr[target]!, b.all.fnmrAtFmr[target]!];
    return fb < fa || (fb === fa && b.all.auc > a.all.auc) ? b : a;
  });
  return { label: best.label, rule: `lowest FNMR at FMR ${target} (the threshold rule's target), ties to the higher AUC` };
}

async function evaluateVerification(identitiesDir: string, options: EvaluationOptions, watch: Stopwatch, log: (m: string) => void): Promise<{ figures: VerificationFigures; match: ChosenThreshold | null; strict: ChosenThreshold | null }> {
  const manifest = loadManifest();
  const defaultRecognizer = await createRecognizer();
  const candidates = [...(options.candidates ?? foamliuCandidates(manifest.defaults.recognizer))];
  const recognizers = await Promise.all(candidates.map((c) => createRecognizer({ model: c.model, input: c.input })));
  let defaultIndex = recognizers.findIndex((r) => r.name === defaultRecognizer.name && sameInput(r.input, defaultRecognizer.input));
  if (defaultIndex < 0) {
    candidates.push({ label: 'manifest default', model: defaultRecognizer.name, input: defaultRecognizer.input });
    recognizers.push(defaultRecognizer);
    defaultIndex = recognizers.length - 1;
  }
  const protocol = options.pairs ? parsePairsFile(readPairsFile(options.pairs), options.pairs) : null;
  const plain = await createPlainReference();

  // Every labelled photo: one detection pass, then each policy's choice (one alignment per distinct face).
  const photos: LabelledPhoto[] = [];
  const frames: ComparedPhoto[] = [];
  const failures = Object.fromEntries(FACE_POLICIES.map((p) => [p, { byReason: {} as Record<string, number>, failedFiles: [] as Array<{ file: string; code: string }> }])) as Record<
    FacePolicy,
    { byReason: Record<string, number>; failedFiles: Array<{ file: string; code: string }> }
  >;
  const fail = (policy: FacePolicy, file: string, code: string) => {
    failures[policy].byReason[code] = (failures[policy].byReason[code] ?? 0) + 1;
    failures[policy].failedFiles.push({ file, code });
  };
  const qualityFailures: Record<string, number> = {};
  let qualityPassed = 0;
  let qualityAssessed = 0;
  for (const identity of listDirs(identitiesDir)) {
    for (const file of listImages(path.join(identitiesDir, identity))) {
      const name = path.basename(file);
      const bytes = new Uint8Array(readFileSync(file));
      let image: RgbImage;
      let found: Detection[];
      try {
        image = await watch.time('decode', () => decodeImage(bytes));
      } catch (e) {
        photos.push({ identity, file: name, tight: false, chosen: {}, reference: { failure: failureCode(e) } });
        frames.push({ identity, file: name, kind: 'other', project: null, reference: { failure: failureCode(e) } });
        for (const policy of FACE_POLICIES) fail(policy, name, failureCode(e));
        continue;
      }
      frames.push(await frameThroughBoth(bytes, identity, name, plain, defaultRecognizer));
      // The reference on the same decoded image: decoding (and its size limits) is shared, the stages after it are compared.
      let reference: LabelledPhoto['reference'];
      try {
        reference = { embedding: (await plain.run(image)).embedding };
      } catch (e) {
        reference = { failure: failureCode(e) };
      }
      const photo: LabelledPhoto = { identity, file: name, tight: image.width <= TIGHT_CROP_MAX_SIDE && image.height <= TIGHT_CROP_MAX_SIDE, chosen: {}, reference };
      photos.push(photo);
      try {
        // The first look the login uses for the frames it embeds but does not score for liveness.
        found = await watch.time('detect', () => detectFaces(image, { fastInputSize: firstLookSize }));
      } catch (e) {
        for (const policy of FACE_POLICIES) fail(policy, photo.file, failureCode(e));
        continue;
      }
      for (const policy of FACE_POLICIES) {
        try {
          const { face, otherFaces } = chooseFace(found, image, policy);
          const same = Object.values(photo.chosen).find((c) => c.detection === face);
          const aligned = same?.aligned ?? (await watch.time('align', () => alignFace(image, face.landmarks)));
          photo.chosen[policy] = { detection: face, aligned, otherFaces };
        } catch (e) {
          fail(policy, photo.file, failureCode(e));
        }
      }
      const captured = photo.chosen.capture;
      if (captured) {
        const quality = assessQuality(captured.detection, captured.aligned, qualityPresets.verify);
        qualityAssessed++;
        if (quality.pass) qualityPassed++;
        for (const r of quality.reasons) qualityFailures[r] = (qualityFailures[r] ?? 0) + 1;
      }
    }
  }
  log(`identities: ${FACE_POLICIES.map((p) => `${p} policy ${photos.filter((x) => x.chosen[p]).length}/${photos.length}`).join(', ')} photos with a face`);

  const resolve = resolvePairImage(photos);
  const protocolPhotos = protocol?.pairs.map((pair) => {
    const [a, b] = [resolve(pair.a), resolve(pair.b)];
    const missing = !a ? pair.a : !b ? pair.b : null;
    if (missing) throw new InputError('eval.pairs', `${options.pairs}: ${missing.identity}/${missing.file} is not an image under identities/`);
    return [a!, b!] as const;
  });

  const policies = {} as Record<FacePolicy, PolicyFigures>;
  let defaultScores: { genuine: Scores; impostor: Scores } | undefined;
  let defaultEmbeddings: Map<LabelledPhoto, Float32Array> | undefined;
  for (const policy of FACE_POLICIES) {
    const accepted = photos.filter((p) => p.chosen[policy]);
    const candidateFigures: CandidateFigures[] = [];
    let pairs: PolicyFigures['pairs'] = null;
    for (let c = 0; c < recognizers.length; c++) {
      const recognizer = recognizers[c];
      const embeddings = new Map<LabelledPhoto, Float32Array>();
      for (const p of accepted) {
        const aligned = p.chosen[policy]!.aligned;
        embeddings.set(p, c === defaultIndex && policy === THRESHOLD_POLICY ? await watch.time('embed', () => recognizer.embed(aligned)) : await recognizer.embed(aligned));
      }
      const faces: ScoredFace[] = accepted.map((p) => ({ identity: p.identity, file: p.file, tight: p.tight, embedding: embeddings.get(p)! }));
      const impostors = hardest(5, (x, y) => x > y);
      const genuines = hardest(5, (x, y) => x < y);
      let genuineSum = 0;
      let maxImpostor = -Infinity;
      const all = subsetFigures(faces, () => true, (a, b, score, same) => {
        if (same) {
          genuineSum += score;
          genuines.offer(a.file, b.file, score);
        } else {
          maxImpostor = Math.max(maxImpostor, score);
          impostors.offer(a.file, b.file, score);
        }
      });
      if (!all) throw layoutError(`${identitiesDir} needs at least two identities, one with two photos that have a face (${policy} policy: ${accepted.length} photos of ${new Set(accepted.map((p) => p.identity)).size} identities)`);
      if (c === defaultIndex && policy === THRESHOLD_POLICY) [defaultScores, defaultEmbeddings] = [all.scores, embeddings];
      if (c === defaultIndex && protocol && protocolPhotos) {
        const scores = new Float64Array(protocolPhotos.map(([a, b]) => (embeddings.has(a) && embeddings.has(b) ? cosine(embeddings.get(a)!, embeddings.get(b)!) : -Infinity)));
        pairs = {
          ...kFoldAccuracy(scores, protocol.pairs.map((p) => p.same), protocol.pairs.map((p) => p.fold), protocol.folds),
          unscoredPairs: scores.filter((s) => s === -Infinity).length,
        };
      }
      candidateFigures.push({
        label: candidates[c].label,
        model: recognizer.name,
        license: modelEntry(recognizer.name).license,
        input: recognizer.input,
        isDefault: c === defaultIndex,
        all: all.figures,
        fullPhotos: subsetFigures(faces, (a, b) => !a.tight && !b.tight)?.figures ?? null,
        tightCrops: subsetFigures(faces, (a, b) => a.tight && b.tight)?.figures ?? null,
        det: all.det.map(({ fmr, fnmr }) => ({ fmr: round(fmr, 7), fnmr: round(fnmr, 7) })),
        meanGenuine: genuineSum / all.figures.genuinePairs,
        maxImpostor,
        hardestImpostors: impostors.list,
        hardestGenuines: genuines.list,
      });
      log(`${policy} policy, recognizer ${candidates[c].label}: AUC ${all.figures.auc.toFixed(4)}`);
    }
    policies[policy] = {
      policy,
      accepted: accepted.length,
      ...failures[policy],
      withOtherFaces: accepted.filter((p) => p.chosen[policy]!.otherFaces > 0).length,
      candidates: candidateFigures,
      pairs,
    };
  }

  const def = policies[THRESHOLD_POLICY].candidates[defaultIndex];
  const referenceModels = { detector: plain.detector, recognizer: plain.recognizer };
  const match = chooseMatchThreshold(def.all, defaultScores!, THRESHOLD_POLICY);
  const target = match ? (FMR_TARGETS.find((k) => match.rule.startsWith(`threshold at FMR ${k},`)) ?? null) : null;
  return {
    match,
    strict: measureStrictThreshold(defaultScores!, THRESHOLD_POLICY),
    figures: {
      recognizer: def.model,
      input: def.input,
      ...def.all,
      policy: THRESHOLD_POLICY,
      policies,
      recommended: target ? recommendSetup(policies[THRESHOLD_POLICY].candidates, target) : null,
      pairsProtocol: protocol ? { file: options.pairs!, folds: protocol.folds, pairs: protocol.pairs.length } : null,
      labelledPhotos: photos.length,
      reference: {
        photos: compareWithReference(
          photos.map((p) => ({ identity: p.identity, file: p.file, kind: p.tight ? 'tight' : 'full', project: defaultEmbeddings!.get(p) ?? null, reference: p.reference })),
          referenceModels,
          ['full', 'tight'],
        ),
        frames: compareWithReference(frames, referenceModels, FRAME_KINDS),
      },
      quality: { preset: 'verify', policy: 'capture', assessed: qualityAssessed, passed: qualityPassed, failedByReason: qualityFailures },
    },
  };
}

async function evaluatePad(padDir: string, options: EvaluationOptions, watch: Stopwatch): Promise<PadFigures> {
  const manifest = loadManifest();
  // Every sample through decode → detect (capture policy: PAD samples are captures) → each ensemble.
  const ensembleNames = options.ensembles ?? [manifest.defaults.liveness, ...Object.keys(manifest.liveness).filter((e) => e !== manifest.defaults.liveness)];
  const ensembles = await Promise.all(ensembleNames.map((e) => createLivenessEnsemble(e)));
  const padModels = [...new Set(ensembleNames.flatMap((e) => manifest.liveness[e] ?? []))].filter((m) => livenessModelSpecs[m]);
  const samples: PadSample[] = [];
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

  if (samples.length === 0) throw layoutError(`${padDir} has no samples (pad/<species>/*.jpg|png|webp)`);
  return { ...padFigures[0], ensembles: padFigures, models: modelFigures, samples, failures: padFailures };
}

export async function runEvaluation(options: EvaluationOptions): Promise<EvaluationResult> {
  const log = options.onProgress ?? (() => {});
  const layout = inspectLayout(options.data);
  const loadAverage = os.loadavg();
  const watch = new Stopwatch();
  const verification = layout.identities ? await evaluateVerification(layout.identities, options, watch, log) : null;
  if (!verification && options.pairs) throw layoutError(`${options.data} has no identities/ for the pairs in ${options.pairs}`);
  const pad = layout.pad ? await evaluatePad(layout.pad, options, watch) : null;
  return {
    data: options.data,
    thresholds: {
      match: verification?.match ?? null,
      strict: verification?.strict ?? null,
      liveness: pad && pad.bpcer !== null ? { value: pad.threshold, rule: `${pad.ensemble}: ${pad.rule}` } : null,
    },
    verification: verification?.figures ?? null,
    pad,
    timingsMs: watch.summary(),
    machine: { cpus: os.availableParallelism(), loadAverage, loadAverageAtEnd: os.loadavg() },
  };
}
