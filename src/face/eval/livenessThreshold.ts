/**
 * The liveness threshold for a BPCER target, by a rule that says how many bona fide rejections it
 * rests on. With enough bona fide captures that the target allows ≥ minEvents rejections, the
 * empirical quantile is stable and is used as is. With fewer, a quantile resting on a handful of
 * rejections is mostly noise, so the threshold is the highest one whose one-sided upper confidence
 * bound (Clopper–Pearson) on BPCER stays within the target: the target is then demonstrated by the
 * data, at the cost of a lower threshold (more attacks accepted) than the point estimate.
 */
import { clopperPearson } from './binomialInterval.ts';

export type ThresholdRuleKind = 'quantile' | 'upper-bound';

export interface LivenessThresholdChoice {
  /** Accept a capture as live when its aggregate score ≥ threshold. */
  threshold: number;
  kind: ThresholdRuleKind;
  /** The rule in words, with its numbers. */
  rule: string;
  bonaFide: number;
  /** Bona fide rejections the rule allows before rounding, and those at the rounded threshold. */
  allowedRejections: number;
  rejections: number;
  /** Rejections the target allows at the point estimate (⌊target·n⌋): the events near the operating point. */
  eventsAtTarget: number;
  /** False when even zero rejections cannot bound BPCER below the target (too few bona fide captures). */
  demonstrable: boolean;
  /** One-sided upper confidence bound on BPCER at the threshold. */
  bpcerUpperBound: number;
}

export interface ThresholdRuleOptions {
  /** Fewest rejections at the target for the plain quantile to be trusted. */
  minEvents?: number;
  /** One-sided confidence of the upper bound. */
  confidence?: number;
  /** The threshold is rounded down to a multiple of this (never rejecting more bona fide captures). */
  step?: number;
}

/** One-sided upper confidence bound on a rate k/n (the two-sided Clopper–Pearson bound at 2·confidence − 1). */
export function rateUpperBound(errors: number, trials: number, confidence = 0.95): number {
  if (errors >= trials) return 1;
  return clopperPearson(errors, trials, 2 * confidence - 1).upper;
}

/** The largest multiple of step (to 6 decimals) that is ≤ v, free of float error in either direction. */
function roundDown(v: number, step: number): number {
  const k = Math.round(v / step);
  const near = Number((k * step).toFixed(6));
  return near <= v ? near : Number(((k - 1) * step).toFixed(6));
}

export function chooseLivenessThreshold(bonaFideScores: number[], target: number, options: ThresholdRuleOptions = {}): LivenessThresholdChoice {
  const { minEvents = 30, confidence = 0.95, step = 0.01 } = options;
  const n = bonaFideScores.length;
  if (n === 0) throw new RangeError('chooseLivenessThreshold needs bona fide scores');
  const sorted = Float64Array.from(bonaFideScores).sort();
  const eventsAtTarget = Math.floor(n * target + 1e-9);
  let kind: ThresholdRuleKind;
  let allowed: number;
  let demonstrable = true;
  if (eventsAtTarget >= minEvents) {
    kind = 'quantile';
    allowed = eventsAtTarget;
  } else {
    kind = 'upper-bound';
    allowed = -1;
    while (allowed + 1 < n && rateUpperBound(allowed + 1, n, confidence) <= target) allowed++;
    if (allowed < 0) {
      demonstrable = false;
      allowed = 0;
    }
  }
  // Highest t with at most `allowed` scores below it is the (allowed+1)-th lowest score; rounding
  // it down can only let more captures through.
  const rounded = roundDown(sorted[allowed], step);
  const rejections = sorted.filter((s) => s < rounded).length;
  const pct = `${+(target * 100).toFixed(2)} %`;
  const rule =
    kind === 'quantile'
      ? `highest threshold with BPCER ≤ ${pct} on ${n} bona fide captures (${eventsAtTarget} rejections allowed, ≥ ${minEvents}), rounded down to ${step}`
      : demonstrable
        ? `only ${eventsAtTarget} bona fide rejections at ${pct} of ${n} captures (< ${minEvents}): highest threshold whose one-sided ${confidence * 100} % Clopper–Pearson upper bound on BPCER is ≤ ${pct} (${allowed} rejections allowed), rounded down to ${step}`
        : `${n} bona fide captures cannot bound BPCER below ${pct} at ${confidence * 100} % even with no rejection: lowest bona fide score, rounded down to ${step} (target not demonstrated)`;
  return {
    threshold: rounded,
    kind,
    rule,
    bonaFide: n,
    allowedRejections: allowed,
    rejections,
    eventsAtTarget,
    demonstrable,
    bpcerUpperBound: rateUpperBound(rejections, n, confidence),
  };
}
