/**
 * Verification accuracy from genuine (same person) and impostor (different people) similarity
 * scores, accepted when score ≥ threshold. Scores are typed arrays, sorted once: a web-photo set
 * has tens of millions of impostor pairs, too many for a Set of thresholds or an object per pair.
 * AUC, EER and the DET curve come from one merged sweep over the two sorted arrays. Operating
 * points at a target FMR are read off the empirical impostor distribution and are null when there
 * are fewer than 1/FMR impostor pairs: an FMR below one error in the sample cannot be measured.
 */
import { clopperPearson, type RateWithInterval } from './binomialInterval.ts';

export const FMR_TARGETS = ['1e-2', '1e-3', '1e-4'] as const;
export type FmrTarget = (typeof FMR_TARGETS)[number];

/** Similarity scores, one per pair. */
export type Scores = Float32Array | Float64Array;

export interface OperatingPoint {
  threshold: number;
  /** False matches among impostor pairs at this threshold: the events the point rests on. */
  fmr: RateWithInterval;
  /** False non-matches among genuine pairs at this threshold. */
  fnmr: RateWithInterval;
}

export interface TradeoffPoint {
  threshold: number;
  fmr: number;
  fnmr: number;
}

export interface VerificationMetrics {
  genuinePairs: number;
  impostorPairs: number;
  /** Area under the ROC curve: P(genuine score > impostor score), ties count one half. */
  auc: number;
  /** Equal error rate and the threshold where FMR and FNMR are closest. */
  eer: number;
  eerThreshold: number;
  atFmr: Record<FmrTarget, OperatingPoint | null>;
  /** The error trade-off, thinned to points at least 0.01 decade apart on either axis (rates of 0 counted at 1e-6), ends kept. */
  det: TradeoffPoint[];
}

/** The next double above x, so that "≥ threshold" excludes x itself. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

/** An ascending copy (typed-array sort: numeric, in native code); NaN is refused, it has no place in the order. */
export function sortedScores(scores: Scores | number[]): Scores {
  const copy = Array.isArray(scores) ? Float64Array.from(scores) : scores.slice();
  copy.sort();
  if (copy.length > 0 && Number.isNaN(copy[copy.length - 1])) throw new RangeError('a score is NaN');
  return copy;
}

export function countAtLeast(sortedAscending: ArrayLike<number>, threshold: number): number {
  let lo = 0;
  let hi = sortedAscending.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sortedAscending[mid] >= threshold) hi = mid;
    else lo = mid + 1;
  }
  return sortedAscending.length - lo;
}

/** Mann–Whitney AUC by rank sums over the sorted scores (ties count ½). */
export function areaUnderRoc(genuine: Scores | number[], impostor: Scores | number[]): number {
  return sweep(sortedScores(genuine), sortedScores(impostor)).auc;
}

/** Smallest threshold whose FMR is ≤ target, or null when the impostor sample is too small. */
export function thresholdAtFmr(impostorAscending: ArrayLike<number>, target: number): number | null {
  const n = impostorAscending.length;
  if (n === 0 || n * target < 1 - 1e-9) return null;
  const allowed = Math.floor(n * target + 1e-9);
  // accept only scores above the (allowed+1)-th highest impostor score
  return nextUp(impostorAscending[n - 1 - allowed]);
}

const detLog = (v: number) => Math.log10(Math.max(v, 1e-6));

/**
 * One pass over every distinct score t, ascending (accept ≥ t: FMR = impostors ≥ t, FNMR =
 * genuines < t): the rank-sum AUC, the EER (first t with the smallest |FMR − FNMR|) and the thinned DET.
 */
function sweep(g: Scores, im: Scores): Pick<VerificationMetrics, 'auc' | 'eer' | 'eerThreshold' | 'det'> {
  const nG = g.length;
  const nI = im.length;
  let i = 0;
  let j = 0;
  let wins = 0;
  let eer = 1;
  let eerThreshold = 0;
  let bestGap = Infinity;
  const det: TradeoffPoint[] = [];
  // The latest point not kept yet (numbers, not an object per threshold): the curve's end.
  let pendingT = NaN;
  let pendingFmr = 0;
  let pendingFnmr = 0;
  while (i < nG || j < nI) {
    const t = i < nG && (j >= nI || g[i] <= im[j]) ? g[i] : im[j];
    const fmr = (nI - j) / nI;
    const fnmr = i / nG;
    const gap = Math.abs(fmr - fnmr);
    if (gap < bestGap) {
      bestGap = gap;
      eer = (fmr + fnmr) / 2;
      eerThreshold = t;
    }
    const last = det[det.length - 1];
    if (!last || Math.abs(detLog(fmr) - detLog(last.fmr)) >= 0.01 || Math.abs(detLog(fnmr) - detLog(last.fnmr)) >= 0.01) {
      det.push({ threshold: t, fmr, fnmr });
      pendingT = NaN;
    } else {
      pendingT = t;
      pendingFmr = fmr;
      pendingFnmr = fnmr;
    }
    const below = j;
    const g0 = i;
    while (i < nG && g[i] === t) i++;
    while (j < nI && im[j] === t) j++;
    wins += (i - g0) * (below + (j - below) / 2);
  }
  if (!Number.isNaN(pendingT)) det.push({ threshold: pendingT, fmr: pendingFmr, fnmr: pendingFnmr });
  return { auc: wins / (nG * nI), eer, eerThreshold, det };
}

/** Every figure from one sort of each side and one sweep; the inputs are not modified. */
export function verificationMetrics(genuine: Scores | number[], impostor: Scores | number[]): VerificationMetrics {
  if (genuine.length === 0 || impostor.length === 0) throw new RangeError('need genuine and impostor scores');
  const g = sortedScores(genuine);
  const im = sortedScores(impostor);
  const atFmr = {} as Record<FmrTarget, OperatingPoint | null>;
  for (const key of FMR_TARGETS) {
    const t = thresholdAtFmr(im, Number(key));
    atFmr[key] =
      t === null
        ? null
        : {
            threshold: t,
            fmr: clopperPearson(countAtLeast(im, t), im.length),
            fnmr: clopperPearson(g.length - countAtLeast(g, t), g.length),
          };
  }
  return { genuinePairs: g.length, impostorPairs: im.length, ...sweep(g, im), atFmr };
}
