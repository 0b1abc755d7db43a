/**
 * The project's stages against the plain reference of issue 12 (plainReference.ts) on the same
 * labelled photos, under two stated pair rules, and the verdict: do the stages match or beat
 * the reference at FMR 1e-3 (lower or equal FNMR) and on AUC (higher or equal)?
 * - `both`: only photos both pipelines handled — the same pairs, so only the stages differ.
 * - `all`: every pair of the labelled photos; a photo a pipeline could not handle (no face at its
 *   threshold, or an undecodable file) scores −∞ in each of its pairs: a genuine pair with it is a
 *   false non-match, an impostor pair a correct rejection. A pipeline that misses faces pays for it.
 * Figures are given for all inputs and for each kind apart (full photos and tight crops: the issue's
 * held-out set was web photos, where tight crops are rare; webcam-like frames and the rest). The
 * verdict is the question on all inputs: yes only when it holds under both rules.
 */
import { cosine } from '../embed.ts';
import { verificationMetrics, type OperatingPoint } from './verificationMetrics.ts';

/** One labelled photo and each pipeline's embedding of it (project null: it failed, see the project's own failure list). */
export interface ComparedPhoto {
  identity: string;
  file: string;
  /** Which kind of input it is (e.g. `full` photo or `tight` crop), for the figures per kind. */
  kind: string;
  project: Float32Array | null;
  reference: { embedding: Float32Array } | { failure: string };
}

export const PAIR_RULES = ['both', 'all'] as const;
export type PairRule = (typeof PAIR_RULES)[number];

export const PAIR_RULE_TEXT: Record<PairRule, string> = {
  both: 'only photos both pipelines handled (identical pairs)',
  all: 'every pair of the labelled photos, each pipeline on its own; a photo it failed scores −∞ (genuine pairs with it are false non-matches)',
};

/** The FMR targets the issue compares at. */
export const COMPARED_FMR = ['1e-2', '1e-3'] as const;

export interface ComparisonRow {
  /** Photos taking part under the rule, and how many of them this pipeline failed. */
  photos: number;
  failures: number;
  genuinePairs: number;
  impostorPairs: number;
  auc: number;
  eer: number;
  atFmr: Record<(typeof COMPARED_FMR)[number], OperatingPoint | null>;
}

/** Both pipelines under one subset and pair rule, and whether the project matches or beats the reference there. */
export interface ComparisonSection {
  /** `all`, or one kind of input. */
  subset: string;
  rule: PairRule;
  project: ComparisonRow;
  reference: ComparisonRow;
  /** Null when FMR 1e-3 cannot be measured (fewer than 1,000 impostor pairs). */
  matchOrBeat: boolean | null;
}

export interface ReferenceComparison {
  reference: { detector: string; recognizer: string };
  /** Photos the reference found no face in (or could not read). */
  referenceFailures: Array<{ file: string; code: string }>;
  /** Every subset × rule with pairs of both kinds. */
  sections: ComparisonSection[];
  /** The verdict, on all labelled photos under both rules; null when a rule cannot measure FMR 1e-3. */
  matchOrBeat: boolean | null;
}

type Side = 'project' | 'reference';

const embeddingOf = (p: ComparedPhoto, side: Side): Float32Array | null =>
  side === 'project' ? p.project : 'embedding' in p.reference ? p.reference.embedding : null;

/** One pipeline's figures under a rule; scores in typed arrays filled in two passes (count, then fill), as a large set needs. */
function row(photos: ComparedPhoto[], side: Side, rule: PairRule): ComparisonRow | null {
  const taking = rule === 'both' ? photos.filter((p) => embeddingOf(p, 'project') && embeddingOf(p, 'reference')) : photos;
  const embeddings = taking.map((p) => embeddingOf(p, side));
  const visit = (f: (same: boolean, i: number, j: number) => void) => {
    for (let i = 0; i < taking.length; i++) for (let j = i + 1; j < taking.length; j++) f(taking[i].identity === taking[j].identity, i, j);
  };
  let nG = 0;
  let nI = 0;
  visit((same) => (same ? nG++ : nI++));
  if (nG === 0 || nI === 0) return null;
  const genuine = new Float32Array(nG);
  const impostor = new Float32Array(nI);
  nG = 0;
  nI = 0;
  visit((same, i, j) => {
    const [a, b] = [embeddings[i], embeddings[j]];
    const score = a && b ? cosine(a, b) : -Infinity;
    if (same) genuine[nG++] = score;
    else impostor[nI++] = score;
  });
  const m = verificationMetrics(genuine, impostor);
  return {
    photos: taking.length,
    failures: embeddings.filter((e) => !e).length,
    genuinePairs: m.genuinePairs,
    impostorPairs: m.impostorPairs,
    auc: m.auc,
    eer: m.eer,
    atFmr: { '1e-2': m.atFmr['1e-2'], '1e-3': m.atFmr['1e-3'] },
  };
}

/** Project at least as good as the reference: AUC ≥ and FNMR at FMR 1e-3 ≤ (null when that point is not measurable). */
function matchesOrBeats(project: ComparisonRow, reference: ComparisonRow): boolean | null {
  const [p, r] = [project.atFmr['1e-3'], reference.atFmr['1e-3']];
  if (!p || !r) return null;
  return project.auc >= reference.auc && p.fnmr.rate <= r.fnmr.rate;
}

/** Sections for all inputs, then for each of `kinds` (in that order) that has pairs of both kinds. */
export function compareWithReference(photos: ComparedPhoto[], reference: { detector: string; recognizer: string }, kinds: readonly string[]): ReferenceComparison {
  const sections: ComparisonSection[] = [];
  for (const subset of ['all', ...kinds]) {
    const chosen = subset === 'all' ? photos : photos.filter((p) => p.kind === subset);
    for (const rule of PAIR_RULES) {
      const project = row(chosen, 'project', rule);
      const ref = row(chosen, 'reference', rule);
      if (project && ref) sections.push({ subset, rule, project, reference: ref, matchOrBeat: matchesOrBeats(project, ref) });
    }
  }
  const verdicts = PAIR_RULES.map((rule) => sections.find((s) => s.subset === 'all' && s.rule === rule)?.matchOrBeat ?? null);
  return {
    reference,
    referenceFailures: photos.flatMap((p) => ('failure' in p.reference ? [{ file: p.file, code: p.reference.failure }] : [])),
    sections,
    matchOrBeat: verdicts.includes(false) ? false : verdicts.includes(null) ? null : true,
  };
}
