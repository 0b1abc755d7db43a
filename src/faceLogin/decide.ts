/**
 * The face step's accept rule, in one place for the sign-in and the CLI: the face must match
 * (cosine ≥ matchThreshold) AND be live (aggregate P(live) ≥ livenessThreshold). The two layers
 * are judged separately and the result says which failed — never by how much: no score leaves.
 * loa 3 matches at strictMatchThreshold and also needs the head turns (headTurn.ts).
 */
import { livenessThreshold, matchThreshold, strictMatchThreshold } from '../face/thresholds.ts';
import type { HeadTurnCheck, HeadTurnFailure } from './headTurn.ts';

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

export type ActiveFaceFailure = FaceFailure | HeadTurnFailure;
export type ActiveFaceDecision = { accepted: true } | { accepted: false; failed: ActiveFaceFailure[] };

/**
 * loa 3 (DESIGN.md §4): the frontal frames' embedding matches at the strict threshold, they are
 * live, and the burst made the asked head turns. `scores` as for decideFace.
 */
export function decideActiveFace(scores: { match: number; liveness: number }, headTurns: HeadTurnCheck): ActiveFaceDecision {
  const failed: ActiveFaceFailure[] = [];
  if (!(scores.match >= strictMatchThreshold)) failed.push('no_match');
  if (!isLive(scores.liveness)) failed.push('not_live');
  if (!headTurns.ok) failed.push(headTurns.reason);
  return failed.length === 0 ? { accepted: true } : { accepted: false, failed };
}
