/**
 * Liveness calibration on scored captures: for the deployed set-up and each cheaper variant, the
 * threshold at the BPCER target by livenessThreshold.ts's rule, then BPCER and APCER per attack
 * species there with 95 % intervals (padMetrics.ts). A variant "keeps APCER" when each species'
 * APCER at its own threshold is within the deployed set-up's 95 % interval for that species.
 */
import { chooseLivenessThreshold, type LivenessThresholdChoice, type ThresholdRuleOptions } from './livenessThreshold.ts';
import { livenessVariants, variantScore, type LivenessVariant, type ScoredCapture } from './livenessVariants.ts';
import { padMetrics, type PadMetrics } from './padMetrics.ts';
import { areaUnderRoc } from './verificationMetrics.ts';

export interface VariantFigures {
  variant: LivenessVariant;
  /** PAD model runs per capture (models × frames). */
  modelRuns: number;
  choice: LivenessThresholdChoice;
  metrics: PadMetrics;
  /** Bona fide vs all attacks, threshold-free (null without either). */
  auc: number | null;
  /** Each species' APCER within the deployed set-up's 95 % interval (always true for the deployed one). */
  keepsApcer: boolean;
  /** Each species' APCER at most the deployed set-up's. */
  noWorse: boolean;
}

export interface LivenessCalibration {
  target: number;
  bonaFide: number;
  attacksBySpecies: Record<string, number>;
  deployed: VariantFigures;
  /** The deployed set-up first, then the cheaper ones by cost. */
  variants: VariantFigures[];
}

function figuresOf(captures: ScoredCapture[], variant: LivenessVariant, target: number, options: ThresholdRuleOptions): Omit<VariantFigures, 'keepsApcer' | 'noWorse'> {
  const live: number[] = [];
  const attacks: Record<string, number[]> = {};
  for (const c of captures) {
    const s = variantScore(c, variant);
    if (s === null) continue;
    if (c.species === 'live') live.push(s);
    else (attacks[c.species] ??= []).push(s);
  }
  const choice = chooseLivenessThreshold(live, target, options);
  const allAttacks = Object.values(attacks).flat();
  return {
    variant,
    modelRuns: variant.models.length * variant.frames,
    choice,
    metrics: padMetrics(live, attacks, choice.threshold),
    auc: allAttacks.length ? areaUnderRoc(live, allAttacks) : null,
  };
}

export function calibrateLiveness(
  captures: ScoredCapture[],
  models: string[],
  ensembleName: string,
  target: number,
  options: ThresholdRuleOptions & { frames?: number; deployedFrames?: number } = {},
): LivenessCalibration {
  const frames = options.frames ?? 3;
  const bonaFide = captures.filter((c) => c.species === 'live').length;
  if (bonaFide === 0) throw new RangeError('calibrateLiveness needs bona fide captures');
  const attacksBySpecies: Record<string, number> = {};
  for (const c of captures) if (c.species !== 'live') attacksBySpecies[c.species] = (attacksBySpecies[c.species] ?? 0) + 1;
  const all = livenessVariants(models, frames, ensembleName, options.deployedFrames ?? frames).map((v) => figuresOf(captures, v, target, options));
  const deployedInterval = all[0].metrics.apcerIntervalBySpecies;
  const variants: VariantFigures[] = all.map((f) => ({
    ...f,
    keepsApcer: Object.entries(f.metrics.apcerIntervalBySpecies).every(([species, r]) => !deployedInterval[species] || r.rate <= deployedInterval[species].upper),
    noWorse: Object.entries(f.metrics.apcerIntervalBySpecies).every(([species, r]) => !deployedInterval[species] || r.rate <= deployedInterval[species].rate),
  }));
  return { target, bonaFide, attacksBySpecies, deployed: variants[0], variants };
}
