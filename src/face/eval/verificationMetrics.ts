/**
 * Verification accuracy from genuine (same person) and impostor (different people) similarity
 * scores, accepted when score ≥ threshold. Operating points at a target FMR are read off the
 * empirical impostor distribution and are null when there are fewer than 1/FMR impostor pairs:
 * an FMR below one error in the sample cannot be measured, only extrapolated.
 */
import { clopperPearson, type RateWithInterval } from './binomialInterval.ts';

export const FMR_TARGETS = ['1e-2', '1e-3', '1e-4'] as const;
export type FmrTarget = (typeof FMR_TARGETS)[number];

export interface OperatingPoint {
  threshold: number;
  /** False matches among impostor pairs at this threshold. */
  fmr: RateWithInterval;
  /** False non-matches among genuine pairs at this threshold. */
  fnmr: RateWithInterval;
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

export function countAtLeast(sortedAscending: number[], threshold: number): number {
  let lo = 0;
  let hi = sortedAscending.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sortedAscending[mid] >= threshold) hi = mid;
    else lo = mid + 1;
  }
  return sortedAscending.length - lo;
}

/** Mann–Whitney AUC by one merged pass over the sorted scores (ties count ½). */
export function areaUnderRoc(genuine: number[], impostor: number[]): number {
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  let wins = 0;
  let j = 0;
  for (const s of g) {
    while (j < im.length && im[j] < s) j++;
    let t = j;
    while (t < im.length && im[t] === s) t++;
    wins += j + (t - j) / 2;
  }
  return wins / (g.length * im.length);
}

/** Smallest threshold whose FMR is ≤ target, or null when the impostor sample is too small. */
export function thresholdAtFmr(impostorAscending: number[], target: number): number | null {
  const n = impostorAscending.length;
  if (n === 0 || n * target < 1 - 1e-9) return null;
  const allowed = Math.floor(n * target + 1e-9);
  // accept only scores above the (allowed+1)-th highest impostor score
  return nextUp(impostorAscending[n - 1 - allowed]);
}

export function verificationMetrics(genuine: number[], impostor: number[]): VerificationMetrics {
  if (genuine.length === 0 || impostor.length === 0) throw new RangeError('need genuine and impostor scores');
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);

  let eer = 1;
  let eerThreshold = 0;
  let bestGap = Infinity;
  for (const t of [...new Set([...g, ...im])].sort((a, b) => a - b)) {
    const fmr = countAtLeast(im, t) / im.length;
    const fnmr = (g.length - countAtLeast(g, t)) / g.length;
    const gap = Math.abs(fmr - fnmr);
    if (gap < bestGap) {
      bestGap = gap;
      eer = (fmr + fnmr) / 2;
      eerThreshold = t;
    }
  }

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
  return { genuinePairs: g.length, impostorPairs: im.length, auc: areaUnderRoc(g, im), eer, eerThreshold, atFmr };
}

/** Points (FMR, FNMR) over every distinct threshold, for a DET/ROC plot. */
export function errorTradeoff(genuine: number[], impostor: number[]): Array<{ threshold: number; fmr: number; fnmr: number }> {
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  return [...new Set([...g, ...im])]
    .sort((a, b) => a - b)
    .map((t) => ({ threshold: t, fmr: countAtLeast(im, t) / im.length, fnmr: (g.length - countAtLeast(g, t)) / g.length }));
}
