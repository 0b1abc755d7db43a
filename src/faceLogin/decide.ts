/**
 * The face step's accept rule, in one place for the sign-in and the CLI: the face must match
 * (cosine ≥ matchThreshold) AND be live (aggregate P(live) ≥ livenessThreshold). The two layers
 * are judged separately and the result says which failed — never by how much: no score leaves.
 * The match arrives as a decision (the encrypted path never yields a score: FaceTemplates.match
 * is asked at matchThreshold, or at strictMatchThreshold for loa 3, which also needs the head
 * turns, headTurn.ts); the CLI's plaintext cosine is judged by isMatch.
 */
import { livenessThreshold, matchThreshold, strictMatchThreshold } from '../face/thresholds.ts';

/** The cosine threshold FaceTemplates.match is asked at: strict for an active (loa 3) capture. */
export const matchThresholdFor = (active: boolean): number => (active ? strictMatchThreshold : matchThreshold);
import type { HeadTurnCheck, HeadTurnFailure } from './headTurn.ts';

export type FaceFailure = 'no_match' | 'not_live';

export type FaceDecision = { accepted: true } | { accepted: false; failed: FaceFailure[] };

export const isMatch = (matchScore: number): boolean => matchScore >= matchThreshold;
export const isLive = (livenessAggregate: number): boolean => livenessAggregate >= livenessThreshold;

/** `matched`: the template match at matchThreshold; `liveness`: the burst's aggregate P(live). */
export function decideFace(layers: { matched: boolean; liveness: number }): FaceDecision {
  // NaN (a broken score) compares false: it fails its layer rather than passing.
  const failed: FaceFailure[] = [];
  if (layers.matched !== true) failed.push('no_match');
  if (!isLive(layers.liveness)) failed.push('not_live');
  return failed.length === 0 ? { accepted: true } : { accepted: false, failed };
}

export type ActiveFaceFailure = FaceFailure | HeadTurnFailure;
export type ActiveFaceDecision = { accepted: true } | { accepted: false; failed: ActiveFaceFailure[] };

/**
 * loa 3 (DESIGN.md §4): the frontal frames' embedding matches at the strict threshold
 * (`matched` must come from a match at strictMatchThreshold), they are live, and the burst made
 * the asked head turns.
 */
export function decideActiveFace(layers: { matched: boolean; liveness: number }, headTurns: HeadTurnCheck): ActiveFaceDecision {
  const failed: ActiveFaceFailure[] = [];
  if (layers.matched !== true) failed.push('no_match');
  if (!isLive(layers.liveness)) failed.push('not_live');
  if (!headTurns.ok) failed.push(headTurns.reason);
  return failed.length === 0 ? { accepted: true } : { accepted: false, failed };
}
