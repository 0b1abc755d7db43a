/**
 * The face step's accept rule, in one place for the sign-in and the CLI: the face must match
 * (cosine ≥ matchThreshold) AND be live (aggregate P(live) ≥ livenessThreshold). The two layers
 * are judged separately and the result says which failed — never by how much: no score leaves.
 */
import { livenessThreshold, matchThreshold } from '../face/thresholds.ts';

export type FaceFailure = 'no_match' | 'not_live';

export type FaceDecision = { accepted: true } | { accepted: false; failed: FaceFailure[] };

export const isMatch = (matchScore: number): boolean => matchScore >= matchThreshold;
export const isLive = (livenessAggregate: number): boolean => livenessAggregate >= livenessThreshold;

/** `match`: cosine with the enrolled template; `liveness`: the burst's aggregate P(live). */
export function decideFace(scores: { match: number; liveness: number }): FaceDecision {
  // NaN (a broken score) compares false: it fails its layer rather than passing.
  const failed: FaceFailure[] = [];
  if (!isMatch(scores.match)) failed.push('no_match');
  if (!isLive(scores.liveness)) failed.push('not_live');
  return failed.length === 0 ? { accepted: true } : { accepted: false, failed };
}
