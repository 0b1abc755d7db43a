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
 *
 * headTurnPrompts lays the capture out in the same order the check reads it, so a user who
 * follows the prompts passes it even when slow to react (see there).
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

/** Frames captured per pose (each frontal stretch and each turn) of an active capture. */
export const FRAMES_PER_POSE = 2;

const LOOK_STRAIGHT = 'Look straight at the camera';
const TURN: Record<HeadTurn, string> = { left: 'Turn your head to your left', right: 'Turn your head to your right' };

/**
 * What the page shows while capturing frame i, for the turns `expected`: frontal, each turn,
 * back to frontal after each — FRAMES_PER_POSE frames per pose (10 frames for 2 turns). A user
 * still turning when a frame is taken only lengthens the previous run, which the check accepts,
 * as long as each pose keeps one frame; the frontal frames outnumber minFrontalFrames.
 */
export function headTurnPrompts(expected: readonly HeadTurn[]): string[] {
  const poses: Pose[] = ['frontal', ...expected.flatMap((t): Pose[] => [t, 'frontal'])];
  return poses.flatMap((p, i) => {
    const text = p === 'frontal' ? (i === 0 ? LOOK_STRAIGHT : `${LOOK_STRAIGHT} again`) : TURN[p];
    return Array.from({ length: FRAMES_PER_POSE }, () => text);
  });
}
