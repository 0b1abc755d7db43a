import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/face/decode.ts';
import { detectDominantFace } from '../../src/face/detect.ts';
import { DEFAULT_MAX_FRAMES, frontalMaxYawDeg } from '../../src/face/pipeline.ts';
import { MAX_CAPTURE_FRAMES } from '../../src/faceLogin/captureUpload.ts';
import { ACTIVE_HEAD_TURNS } from '../../src/faceLogin/startCapture.ts';
import { estimatePose } from '../../src/face/quality.ts';
import type { HeadTurn } from '../../src/faceLogin/captureNonce.ts';
import { checkHeadTurns, headTurnPrompts, turnMinYawDeg } from '../../src/faceLogin/headTurn.ts';
import { FACES_DIR } from '../support/shared.ts';

const leftRight: HeadTurn[] = ['left', 'right'];
/** Frontal, a turn to the person's left, frontal, a turn to the right, frontal (yaw > 0 = own left). */
const goodBurst = [1, -2, 24, 31, 3, 0, -27, -22, 2, 1];

describe('checkHeadTurns on yaw sequences', () => {
  it('accepts the asked turns in order, each between frontal frames', () => {
    assert.deepEqual(checkHeadTurns(leftRight, goodBurst), { ok: true });
    assert.deepEqual(checkHeadTurns(['right', 'left'], [0, 2, -20, -35, 1, 4, 18, 26, -1, 0]), { ok: true });
  });

  it('skips frames without a face and frames between frontal and turned', () => {
    assert.deepEqual(checkHeadTurns(leftRight, [null, 1, 11, 24, 13, 22, 9, 2, 0, -20, -12, null, 3]), { ok: true });
    assert.deepEqual(checkHeadTurns(leftRight, [0, 1, 25, Number.NaN, 2, -25, 0]), { ok: true });
  });

  it('refuses the turns in the wrong order', () => {
    assert.deepEqual(checkHeadTurns(['right', 'left'], goodBurst), { ok: false, reason: 'wrong_turns' });
  });

  it('refuses a missing turn, an extra one, and a turn not far enough', () => {
    assert.deepEqual(checkHeadTurns(leftRight, [0, 1, 25, 28, 0, 2, 1, 0]), { ok: false, reason: 'wrong_turns' });
    assert.deepEqual(checkHeadTurns(leftRight, [0, 25, 0, -25, 0, 25, 0]), { ok: false, reason: 'wrong_turns' });
    const shy = turnMinYawDeg - 1;
    assert.deepEqual(checkHeadTurns(leftRight, [0, 1, shy, shy, 0, -shy, 0, 1]), { ok: false, reason: 'wrong_turns' });
  });

  it('refuses a burst that stays frontal (a photo held still)', () => {
    assert.deepEqual(checkHeadTurns(leftRight, [0, 1, -1, 2, 0, 3, -2, 1, 0, 1]), { ok: false, reason: 'wrong_turns' });
  });

  it('refuses a spliced burst: a left clip and a right clip joined without coming back to frontal', () => {
    assert.deepEqual(checkHeadTurns(leftRight, [0, 1, 2, 25, 30, -30, -25, 1, 0]), { ok: false, reason: 'no_return_to_frontal' });
  });

  it('refuses a burst that does not start or end frontal', () => {
    assert.deepEqual(checkHeadTurns(leftRight, [25, 0, 1, 2, -25, 0]), { ok: false, reason: 'no_return_to_frontal' });
    assert.deepEqual(checkHeadTurns(leftRight, [0, 1, 25, 0, 2, -25]), { ok: false, reason: 'no_return_to_frontal' });
  });

  it('needs three frontal frames for the match and liveness', () => {
    assert.deepEqual(checkHeadTurns(leftRight, [0, 25, 30, 0, -25, -30, null]), { ok: false, reason: 'too_few_frontal' });
    assert.deepEqual(checkHeadTurns(leftRight, [frontalMaxYawDeg + 1, 25, frontalMaxYawDeg + 1, -25, frontalMaxYawDeg + 1]), { ok: false, reason: 'too_few_frontal' });
  });

  it('tells a repeated turn from one long turn by the return to frontal', () => {
    assert.deepEqual(checkHeadTurns(['left', 'left', 'right'], [0, 25, 0, 26, 0, -25, 0]), { ok: true });
    assert.deepEqual(checkHeadTurns(['left', 'left', 'right'], [0, 25, 12, 26, 0, -25, 0]), { ok: false, reason: 'wrong_turns' });
  });

  it('refuses a mirrored upload: every turn reads as the other direction', () => {
    assert.deepEqual(checkHeadTurns(leftRight, goodBurst.map((y) => -y)), { ok: false, reason: 'wrong_turns' });
  });
});

describe('headTurnPrompts: the capture the page walks the user through', () => {
  const yawFor = (prompt: string) => (/left/.test(prompt) ? 27 : /right/.test(prompt) ? -22 : 0);

  it('asks frontal, each turn, frontal again, two frames each, within what an upload and a burst hold', () => {
    assert.deepEqual(headTurnPrompts(['right', 'left']), [
      'Look straight at the camera', 'Look straight at the camera',
      'Turn your head to your right', 'Turn your head to your right',
      'Look straight at the camera again', 'Look straight at the camera again',
      'Turn your head to your left', 'Turn your head to your left',
      'Look straight at the camera again', 'Look straight at the camera again',
    ]);
    const frames = headTurnPrompts(Array(ACTIVE_HEAD_TURNS).fill('left')).length;
    assert.ok(frames <= DEFAULT_MAX_FRAMES && frames <= MAX_CAPTURE_FRAMES, `${frames} frames`);
  });

  it('a user who follows the prompts passes the check, even one frame late at every change', () => {
    for (const turns of [['left', 'right'], ['right', 'left'], ['left', 'left'], ['right', 'right']] as HeadTurn[][]) {
      const followed = headTurnPrompts(turns).map(yawFor);
      assert.deepEqual(checkHeadTurns(turns, followed), { ok: true }, turns.join());
      const late = followed.map((_, i) => followed[Math.max(0, i - 1)]);
      assert.deepEqual(checkHeadTurns(turns, late), { ok: true }, `late ${turns.join()}`);
    }
  });
});

/** The yaw the pipeline reports (quality.ts's estimate on YuNet's landmarks) of a photo, optionally transformed. */
type Transform = (s: ReturnType<typeof sharp>) => ReturnType<typeof sharp>;
async function yawOf(file: string, transform: Transform = (s) => s): Promise<number> {
  const bytes = await transform(sharp(readFileSync(path.join(FACES_DIR, file))).rotate()).png().toBuffer();
  return estimatePose(await detectDominantFace(await decodeImage(bytes))).yawDeg;
}
const mirrored: Transform = (s) => s.flop();

describe('yaw of real photos (one person, frontal and turned both ways)', () => {
  // By eye: obama_1 looks at the camera, obama_3 turns to his own left (nose toward the image's
  // right), obama_2 to his own right; anon_human_emotions_a_2 looks over her own left shoulder.
  const photos = {
    frontal: 'face_recognition/barack_obama_1.jpg',
    left: 'face_recognition/barack_obama_3.jpg',
    right: 'face_recognition/barack_obama_2.jpg',
  };
  const yaw: Record<string, number> = {};
  const yawMirrored: Record<string, number> = {};
  before(async () => {
    for (const [k, f] of Object.entries(photos)) {
      yaw[k] = await yawOf(f);
      yawMirrored[k] = await yawOf(f, mirrored);
    }
  });

  it('reads frontal as frontal and each turn with its sign and a plausible size', () => {
    assert.ok(Math.abs(yaw.frontal) <= frontalMaxYawDeg, `frontal ${yaw.frontal}`);
    assert.ok(yaw.left >= turnMinYawDeg && yaw.left <= 45, `left ${yaw.left}`);
    assert.ok(yaw.right <= -turnMinYawDeg && yaw.right >= -45, `right ${yaw.right}`);
  });

  it('flips the sign on a mirrored copy', async () => {
    assert.ok(Math.abs(yawMirrored.frontal) <= frontalMaxYawDeg);
    assert.ok(yawMirrored.left <= -turnMinYawDeg, `mirrored left ${yawMirrored.left}`);
    assert.ok(yawMirrored.right >= turnMinYawDeg, `mirrored right ${yawMirrored.right}`);
    const a2 = await yawOf('human/anon_human_emotions_a_2.jpg');
    const a2m = await yawOf('human/anon_human_emotions_a_2.jpg', mirrored);
    assert.ok(a2 >= 30 && a2m <= -30, `${a2} / ${a2m}`);
  });

  it('a burst made of these photos passes the challenge it follows, and fails mirrored or reordered', () => {
    const burst = [yaw.frontal, yaw.frontal, yaw.left, yaw.frontal, yaw.right, yaw.frontal];
    assert.deepEqual(checkHeadTurns(leftRight, burst), { ok: true });
    assert.deepEqual(checkHeadTurns(['right', 'left'], burst), { ok: false, reason: 'wrong_turns' });
    const mirroredBurst = [yawMirrored.frontal, yawMirrored.frontal, yawMirrored.left, yawMirrored.frontal, yawMirrored.right, yawMirrored.frontal];
    assert.deepEqual(checkHeadTurns(leftRight, mirroredBurst), { ok: false, reason: 'wrong_turns' });
  });
});
