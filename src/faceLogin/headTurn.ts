/**
 * The active challenge of loa 3 (DESIGN.md §4): the server picks head turns at random, the page
 * prompts for them while it captures, and this rule checks, from the yaw of each frame only (a
 * head pose, not biometric data), that the burst shows them in order — frontal, each turn, back
 * to frontal. A replayed video cannot follow a sequence chosen after it was made. A printed
 * photo swung about its axis can read as turned (the landmarks drift on a narrowed face): prints
 * are liveness's job, on the frontal frames. decide.ts's loa 3 rule adds the strict match threshold.
 *
 * Sign: `left` is the person's own left. In the frames as the camera records them (the page
 * uploads them unmirrored; only its preview is mirrored, so there the face turns toward the
 * screen's left) the nose moves to the image's right, and quality.ts's yaw is positive.
 */
import { frontalMaxYawDeg, minFrontalFrames } from '../face/pipeline.ts';
import type { HeadTurn } from './captureNonce.ts';

/**
 * Smallest |yaw| (degrees) that counts as a turn: 3.5 σ of the estimate's noise (σ ≈ 4°, see
 * frontalMaxYawDeg) above 0 and 7° past the frontal limit, so noise does not carry a frontal
 * frame into a turn; clearly turned photos of ../shared/faces read 20–45°. Frames between the
 * two limits count as neither.
 */
export const turnMinYawDeg = 15;

export type HeadTurnFailure = 'too_few_frontal' | 'wrong_turns' | 'no_return_to_frontal';
export type HeadTurnCheck = { ok: true } | { ok: false; reason: HeadTurnFailure };

type Pose = 'frontal' | HeadTurn;

function poseOf(yawDeg: number | null): Pose | null {
  if (yawDeg === null || !Number.isFinite(yawDeg)) return null;
  if (Math.abs(yawDeg) <= frontalMaxYawDeg) return 'frontal';
  if (Math.abs(yawDeg) < turnMinYawDeg) return null;
  return yawDeg > 0 ? 'left' : 'right';
}

/**
 * `yaws`: each frame's yaw in capture order, null where no face was found. Frames without a face
 * or between frontal and turned are skipped; the others, grouped into runs of one pose, must read
 * frontal, expected[0], frontal, expected[1], …, frontal — with at least minFrontalFrames frontal
 * frames, the ones the match and liveness run on.
 */
export function checkHeadTurns(expected: readonly HeadTurn[], yaws: readonly (number | null)[]): HeadTurnCheck {
  const poses = yaws.map(poseOf).filter((p): p is Pose => p !== null);
  if (poses.filter((p) => p === 'frontal').length < minFrontalFrames) return { ok: false, reason: 'too_few_frontal' };
  const runs = poses.filter((p, i) => i === 0 || p !== poses[i - 1]);
  const turns = runs.filter((p) => p !== 'frontal');
  if (turns.length !== expected.length || turns.some((t, i) => t !== expected[i])) return { ok: false, reason: 'wrong_turns' };
  // Every other run is frontal: the burst starts and ends frontal and comes back between turns.
  if (runs.length !== 2 * expected.length + 1 || runs.some((p, i) => (i % 2 === 0) !== (p === 'frontal'))) {
    return { ok: false, reason: 'no_return_to_frontal' };
  }
  return { ok: true };
}
