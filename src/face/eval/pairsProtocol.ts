/**
 * A fixed pairs protocol (LFW's pairs.txt, or a CSV of pairs) and its k-fold accuracy, the figure
 * web-photo benchmarks publish: for each fold the threshold is chosen on the other k − 1 folds
 * (highest accuracy there) and the accuracy is measured on the held-out fold, so no pair judges the
 * threshold it helped choose.
 */
import { InputError } from '../../errors.ts';

/** An image of the layout: `identities/<identity>/<file>`; `file` may omit the extension. */
export interface ImageRef {
  identity: string;
  file: string;
}

export interface ProtocolPair {
  a: ImageRef;
  b: ImageRef;
  same: boolean;
  /** 0 … folds − 1. */
  fold: number;
}

export interface PairsProtocol {
  folds: number;
  pairs: ProtocolPair[];
}

export interface FoldResult {
  fold: number;
  pairs: number;
  /** Chosen on the other folds: midway between the two scores that bound the best accuracy there. */
  threshold: number;
  accuracy: number;
}

export interface KFoldAccuracy {
  folds: FoldResult[];
  /** Mean and (population) standard deviation of the per-fold accuracies, as LFW results are quoted. */
  mean: number;
  std: number;
}

const badPairs = (where: string, what: string) => new InputError('eval.pairs', `${where}: ${what}`);

/** LFW's image name: `<name>_<4-digit number>`. */
const lfwImage = (name: string, n: string): ImageRef => ({ identity: name, file: `${name}_${n.padStart(4, '0')}` });

/**
 * LFW's pairs.txt: a header `<folds> <n>`, then per fold n matched lines `name i j` and n
 * mismatched lines `name1 i name2 j` (tabs or spaces).
 */
export function parseLfwPairs(text: string, source = 'pairs.txt'): PairsProtocol {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  if (header.length !== 2 || !header.every((h) => /^[1-9]\d*$/.test(h))) throw badPairs(`${source} line 1`, 'expected "<folds> <pairs per class and fold>"');
  const [folds, perClass] = header.map(Number);
  if (folds < 2) throw badPairs(`${source} line 1`, 'k-fold accuracy needs at least 2 folds');
  if (lines.length - 1 !== folds * 2 * perClass) throw badPairs(source, `expected ${folds * 2 * perClass} pairs after the header, found ${lines.length - 1}`);
  const pairs = lines.slice(1).map((line, i): ProtocolPair => {
    const cells = line.trim().split(/\s+/);
    const fold = Math.floor(i / (2 * perClass));
    const n = /^\d+$/;
    if (cells.length === 3 && n.test(cells[1]) && n.test(cells[2])) return { a: lfwImage(cells[0], cells[1]), b: lfwImage(cells[0], cells[2]), same: true, fold };
    if (cells.length === 4 && n.test(cells[1]) && n.test(cells[3])) return { a: lfwImage(cells[0], cells[1]), b: lfwImage(cells[2], cells[3]), same: false, fold };
    throw badPairs(`${source} line ${i + 2}`, 'expected "name i j" or "name1 i name2 j"');
  });
  return { folds, pairs };
}

/**
 * A CSV with a header naming `left`, `right`, `same` (1/0 or true/false) and optionally `fold`;
 * images as `identity/file`. Without a fold column the rows form `folds` consecutive blocks.
 */
export function parsePairsCsv(text: string, source = 'pairs.csv', folds = 10): PairsProtocol {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  if (col('left') < 0 || col('right') < 0 || col('same') < 0) throw badPairs(`${source} line 1`, 'the header needs left, right and same columns');
  const ref = (v: string, where: string): ImageRef => {
    const m = /^([^/]+)\/([^/]+)$/.exec(v.trim());
    if (!m) throw badPairs(where, `"${v}" is not identity/file`);
    return { identity: m[1], file: m[2] };
  };
  const rows = lines.slice(1);
  const foldLabels = col('fold') < 0 ? null : rows.map((line) => line.split(',')[col('fold')]?.trim() ?? '');
  const distinctFolds = foldLabels ? [...new Set(foldLabels)].sort((x, y) => Number(x) - Number(y) || x.localeCompare(y)) : null;
  const k = distinctFolds ? distinctFolds.length : folds;
  if (k < 2) throw badPairs(source, 'k-fold accuracy needs at least 2 folds');
  if (rows.length < k) throw badPairs(source, `${rows.length} pairs cannot fill ${k} folds`);
  const pairs = rows.map((line, i): ProtocolPair => {
    const where = `${source} line ${i + 2}`;
    const cells = line.split(',');
    const same = cells[col('same')]?.trim().toLowerCase();
    if (!['1', '0', 'true', 'false'].includes(same ?? '')) throw badPairs(where, 'same must be 1, 0, true or false');
    const fold = distinctFolds ? distinctFolds.indexOf(foldLabels![i]) : Math.floor((i * k) / rows.length);
    return { a: ref(cells[col('left')] ?? '', where), b: ref(cells[col('right')] ?? '', where), same: same === '1' || same === 'true', fold };
  });
  return { folds: k, pairs };
}

/** A pairs file by its extension: `.csv` as a CSV, anything else as LFW's pairs.txt. */
export function parsePairsFile(text: string, source: string): PairsProtocol {
  return /\.csv$/i.test(source) ? parsePairsCsv(text, source) : parseLfwPairs(text, source);
}

/**
 * The threshold with the highest accuracy (accept score ≥ t) on the given pairs: one sweep over
 * them sorted by score; ties go to the lowest threshold.
 */
function bestThreshold(scores: ArrayLike<number>, same: ArrayLike<boolean>, indices: number[]): number {
  const order = [...indices].sort((x, y) => scores[x] - scores[y]);
  // Threshold at the lowest score: every pair accepted, so the genuine ones are right.
  let correct = order.reduce((n, i) => n + (same[i] ? 1 : 0), 0);
  let best = correct;
  let bestAt = 0;
  for (let p = 0; p < order.length; ) {
    const v = scores[order[p]];
    while (p < order.length && scores[order[p]] === v) correct += same[order[p++]] ? -1 : 1;
    if (correct > best) [best, bestAt] = [correct, p];
  }
  if (bestAt === 0) return scores[order[0]];
  if (bestAt === order.length) return Infinity;
  const [below, above] = [scores[order[bestAt - 1]], scores[order[bestAt]]];
  return Number.isFinite(below) ? (below + above) / 2 : above;
}

/** k-fold accuracy of scored pairs (a pair without a score is −∞: rejected). */
export function kFoldAccuracy(scores: ArrayLike<number>, same: ArrayLike<boolean>, fold: ArrayLike<number>, k: number): KFoldAccuracy {
  const results: FoldResult[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < scores.length; i++) (fold[i] === f ? test : train).push(i);
    if (test.length === 0 || train.length === 0) throw new RangeError(`fold ${f} is empty or holds every pair`);
    const threshold = bestThreshold(scores, same, train);
    const right = test.filter((i) => (scores[i] >= threshold) === same[i]).length;
    results.push({ fold: f, pairs: test.length, threshold, accuracy: right / test.length });
  }
  const mean = results.reduce((s, r) => s + r.accuracy, 0) / k;
  const std = Math.sqrt(results.reduce((s, r) => s + (r.accuracy - mean) ** 2, 0) / k);
  return { folds: results, mean, std };
}
