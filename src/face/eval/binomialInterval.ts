/**
 * Exact (Clopper–Pearson) confidence interval of an error rate k/n, because the counts here are
 * small and often zero, where the normal approximation is wrong. For k = 0 the "rule of three"
 * (3/n, one-sided 95 %) is the usual quick upper bound; the exact two-sided bound is slightly wider.
 */

export interface RateWithInterval {
  errors: number;
  trials: number;
  rate: number;
  /** Two-sided 95 % Clopper–Pearson bounds. */
  lower: number;
  upper: number;
}

/** log C(n, k), summed once per interval so each step of the search costs only the terms that matter. */
function logChoose(n: number, k: number): number {
  let acc = 0;
  for (let i = 0; i < k; i++) acc += Math.log((n - i) / (i + 1));
  return acc;
}

/**
 * log P(X ≤ k) for X ~ Binomial(n, p), in log space so n in the millions does not underflow.
 * Summed from k downwards, stopping once the terms are below the mode and negligible (e^-40 of
 * the sum): a few σ of terms instead of all k + 1, which matters at k in the hundreds of thousands.
 */
function logBinomialCdf(k: number, n: number, p: number, logChooseK: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return k >= n ? 0 : -Infinity;
  const logOdds = Math.log(p) - Math.log1p(-p);
  const mode = (n + 1) * p;
  let term = logChooseK + k * Math.log(p) + (n - k) * Math.log1p(-p); // log P(X = k)
  let acc = term;
  for (let i = k; i > 0; i--) {
    term += Math.log(i / (n - i + 1)) - logOdds; // log P(X = i − 1)
    const hi = Math.max(acc, term);
    acc = hi + Math.log(Math.exp(acc - hi) + Math.exp(term - hi));
    if (i - 1 < mode && term < acc - 40) break;
  }
  return Math.min(0, acc);
}

function binomialCdf(k: number, n: number, p: number, logChooseK: number): number {
  return Math.exp(logBinomialCdf(k, n, p, logChooseK));
}

/** p in [0,1] where f (decreasing in p) crosses target, by bisection. */
function solveDecreasing(f: (p: number) => number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function clopperPearson(errors: number, trials: number, confidence = 0.95): RateWithInterval {
  if (!Number.isInteger(errors) || !Number.isInteger(trials) || trials <= 0 || errors < 0 || errors > trials) {
    throw new RangeError('need integers 0 ≤ errors ≤ trials, trials > 0');
  }
  const tail = (1 - confidence) / 2;
  // upper: P(X ≤ k; p) = tail; lower: P(X ≥ k; p) = tail ⇔ P(X ≤ k−1; p) = 1 − tail
  const upperChoose = errors === trials ? 0 : logChoose(trials, errors);
  const lowerChoose = errors === 0 ? 0 : logChoose(trials, errors - 1);
  const upper = errors === trials ? 1 : solveDecreasing((p) => binomialCdf(errors, trials, p, upperChoose), tail);
  const lower = errors === 0 ? 0 : solveDecreasing((p) => binomialCdf(errors - 1, trials, p, lowerChoose), 1 - tail);
  return { errors, trials, rate: errors / trials, lower, upper };
}

/** One-sided 95 % upper bound on a rate with zero errors in n trials. */
export function ruleOfThree(trials: number): number {
  return Math.min(1, 3 / trials);
}
