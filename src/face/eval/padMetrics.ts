/**
 * Presentation-attack detection figures in the ISO/IEC 30107-3 style: BPCER over bona fide
 * presentations and APCER per attack species (never pooled, so a weak species cannot hide),
 * a presentation being accepted as live when its score ≥ threshold.
 */
import { clopperPearson, type RateWithInterval } from './binomialInterval.ts';

export interface PadMetrics {
  threshold: number;
  /** Share of bona fide presentations classified as attacks; null without bona fide samples. */
  bpcer: number | null;
  /** Share of each species' attacks classified as bona fide. */
  apcerBySpecies: Record<string, number>;
  /** The same rates with their counts and 95 % intervals. */
  bpcerInterval: RateWithInterval | null;
  apcerIntervalBySpecies: Record<string, RateWithInterval>;
  /** The worst species' APCER (ISO "maximum APCER"), null without attacks. */
  maxApcer: number | null;
}

export function padMetrics(liveScores: number[], attackScoresBySpecies: Record<string, number[]>, threshold: number): PadMetrics {
  const bpcerInterval = liveScores.length === 0 ? null : clopperPearson(liveScores.filter((s) => s < threshold).length, liveScores.length);
  const apcerIntervalBySpecies: Record<string, RateWithInterval> = {};
  for (const [species, scores] of Object.entries(attackScoresBySpecies)) {
    if (scores.length === 0) continue;
    apcerIntervalBySpecies[species] = clopperPearson(scores.filter((s) => s >= threshold).length, scores.length);
  }
  const apcerBySpecies = Object.fromEntries(Object.entries(apcerIntervalBySpecies).map(([k, r]) => [k, r.rate]));
  const rates = Object.values(apcerBySpecies);
  return {
    threshold,
    bpcer: bpcerInterval?.rate ?? null,
    apcerBySpecies,
    bpcerInterval,
    apcerIntervalBySpecies,
    maxApcer: rates.length === 0 ? null : Math.max(...rates),
  };
}

/**
 * Highest threshold whose BPCER on the bona fide scores is ≤ target (so as many attacks as
 * possible are rejected for that convenience cost). With n live samples and target·n < 1 this is
 * the lowest live score: every bona fide presentation must pass.
 */
export function thresholdAtBpcer(liveScores: number[], target: number): number | null {
  if (liveScores.length === 0) return null;
  const s = [...liveScores].sort((a, b) => a - b);
  const allowed = Math.floor(s.length * target + 1e-9);
  return s[allowed];
}
