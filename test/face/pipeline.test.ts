import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { BusyError, FacegateError, InputError } from '../../src/errors.ts';
import { cosine } from '../../src/face/embed.ts';
import { stages } from '../../src/face/frame.ts';
import { createFacePipeline, frontalMaxYawDeg, livenessFrames, minFrontalFrames, type FacePipeline } from '../../src/face/pipeline.ts';
import { livenessThreshold, matchThreshold } from '../../src/face/thresholds.ts';
import { checkHeadTurns } from '../../src/faceLogin/headTurn.ts';
import { FACES_DIR } from '../support/shared.ts';

const faces = FACES_DIR;
const file = (p: string) => readFileSync(`${faces}/${p}`);
const fails = (code: string) => (e: unknown) => e instanceof InputError && e.code === code;
let pipeline: FacePipeline;

before(() => {
  pipeline = createFacePipeline({ threads: 1 });
});
after(() => pipeline.close());

describe('face pipeline (worker pool)', () => {
  it('turns a live burst into one unit embedding with per-frame and aggregate liveness and stage timings', async () => {
    const live = file('pad/silentface/image_T1.jpg');
    const r = await pipeline.processBurst([live, live, live], 'verify');
    assert.equal(r.embedding.length, 128);
    assert.ok(Math.abs(cosine(r.embedding, r.embedding) - 1) < 1e-5);
    assert.equal(livenessFrames, 1);
    assert.equal(r.liveness.perFrame.length, 1);
    assert.equal(r.liveness.ensemble, 'pad-trio');
    assert.ok(r.liveness.aggregate >= livenessThreshold);
    assert.equal(r.quality.usedFrames, 3);
    for (const f of r.quality.frames) assert.ok(f.used && f.quality.pass);
    const scored = r.quality.frames.filter((f) => f.used && f.livenessPerModel !== null);
    assert.equal(scored.length, 1);
    assert.ok(scored[0].used && Object.keys(scored[0].livenessPerModel!).length === 3);
    for (const s of [...stages, 'total'] as const) assert.ok(r.timingsMs[s] > 0, s);
  });

  it('scores liveness on a frame drawn at random, not on a fixed one', async () => {
    // Three usable frames: which one is scored must vary from burst to burst.
    const live = file('pad/silentface/image_T1.jpg');
    const drawn = new Set<number>();
    for (let i = 0; i < 12 && drawn.size < 3; i++) {
      const r = await pipeline.processBurst([live, live, live], 'verify');
      drawn.add(r.quality.frames.findIndex((f) => f.used && f.livenessPerModel !== null));
    }
    // Always the same frame 12 times in a row: probability 3 · 3⁻¹² ≈ 6e-6 for a fair draw.
    assert.ok(drawn.size > 1, `only frame ${[...drawn]} was scored`);
  });

  it('scores every frame when asked to (the liveness evaluation), aggregated by the median', async () => {
    const all = createFacePipeline({ threads: 1, livenessFrames: Number.POSITIVE_INFINITY });
    try {
      const live = file('pad/silentface/image_T1.jpg');
      const r = await all.processBurst([live, live, live], 'verify');
      assert.equal(r.liveness.perFrame.length, 3);
      for (const f of r.quality.frames) assert.ok(f.used && f.livenessPerModel !== null && Object.keys(f.livenessPerModel).length === 3);
    } finally {
      await all.close();
    }
  });

  it('draws the scored frame among the usable ones only', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
    const face = file('face_recognition/barack_obama_1.jpg');
    for (let i = 0; i < 4; i++) {
      const r = await pipeline.processBurst([blank, face, face], 'verify');
      assert.equal(r.liveness.perFrame.length, 1);
      assert.ok([1, 2].includes(r.quality.frames.findIndex((f) => f.used && f.livenessPerModel !== null)));
    }
  });

  it('scores a printed-photo attack below the liveness threshold', async () => {
    const r = await pipeline.processBurst([file('pad/silentface/image_F1.jpg')], 'verify');
    assert.ok(r.liveness.aggregate < livenessThreshold);
  });

  it('matches the same person across bursts and not a different one', async () => {
    const [a, b, c] = await Promise.all(
      ['face_recognition/barack_obama_1.jpg', 'face_recognition/barack_obama_2.jpg', 'face_recognition/joe_biden_1.jpg'].map((p) => pipeline.processBurst([file(p)], 'verify')),
    );
    assert.ok(cosine(a.embedding, b.embedding) >= matchThreshold);
    assert.ok(cosine(a.embedding, c.embedding) < matchThreshold);
  });

  it('leaves out a frame without a face when most frames remain, and fails when most are bad', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
    const face = file('face_recognition/barack_obama_1.jpg');
    const r = await pipeline.processBurst([face, blank, face], 'verify');
    assert.equal(r.quality.usedFrames, 2);
    assert.deepEqual(r.quality.frames[1], { index: 1, used: false, code: 'face.none', yawDeg: null });
    assert.equal(r.liveness.perFrame.length, 1);
    await assert.rejects(pipeline.processBurst([blank, face], 'verify'), fails('face.none'));
  });

  it('rejects the whole burst for a corrupt frame or a second person', async () => {
    const face = file('face_recognition/barack_obama_1.jpg');
    await assert.rejects(pipeline.processBurst([face, face.subarray(0, 2000), face], 'verify'), fails('image.corrupt'));
    await assert.rejects(pipeline.processBurst([face, file('deepface/couple.jpg'), face], 'verify'), fails('face.multiple'));
  });

  it('refuses frames of different people in one burst', async () => {
    await assert.rejects(
      pipeline.processBurst([file('face_recognition/barack_obama_1.jpg'), file('face_recognition/joe_biden_1.jpg'), file('face_recognition/barack_obama_2.jpg')], 'verify'),
      fails('face.inconsistent'),
    );
  });

  it('applies the strict enrollment preset: a small face passes verify but not enroll', async () => {
    const small = await sharp(file('face_recognition/barack_obama_1.jpg')).resize({ width: 200 }).jpeg().toBuffer();
    const v = await pipeline.processBurst([small], 'verify');
    assert.ok(v.quality.frames[0].used);
    await assert.rejects(pipeline.processBurst([small], 'enroll'), fails('quality.face_too_small'));
  });

  it('sheds load with face.busy (503, retry after 1 s) when too many tasks wait, and serves the rest', async () => {
    const busy = createFacePipeline({ threads: 1, maxQueuedTasks: 3 });
    try {
      const face = file('face_recognition/barack_obama_1.jpg');
      const results = await Promise.allSettled([0, 1, 2, 3].map(() => busy.processBurst([face, face], 'verify')));
      const refused = results.filter((r) => r.status === 'rejected');
      assert.ok(results.some((r) => r.status === 'fulfilled'));
      assert.ok(refused.length > 0);
      for (const r of refused) {
        assert.ok(r.status === 'rejected' && r.reason instanceof FacegateError && r.reason.code === 'face.busy' && r.reason.status === 503);
        // The HTTP boundary answers it with Retry-After, as it does a 429.
        assert.ok(r.reason instanceof BusyError && r.reason.retryAfterSeconds >= 1, 'carries the seconds to wait');
      }
    } finally {
      await busy.close();
    }
  });

  it('reports each frame\'s yaw, also for a frame a quality gate left out', async () => {
    const frontal = file('face_recognition/barack_obama_1.jpg');
    // Johnny Galecki, turned about 57° to his left: past verify's 45° pose limit.
    const r = await pipeline.processBurst([frontal, file('face_recognition_js/johnny_galecki_12.png'), frontal], 'verify');
    const [a, turned] = r.quality.frames;
    assert.ok(a.used && Math.abs(a.yawDeg) <= frontalMaxYawDeg);
    assert.equal(turned.used, false);
    assert.ok(!turned.used && turned.code === 'quality.pose' && turned.yawDeg !== null && turned.yawDeg > 45, JSON.stringify(turned));
  });

  describe('verify-active (head turns, loa 3)', () => {
    const frontal = file('face_recognition/barack_obama_1.jpg');
    const left = file('face_recognition/barack_obama_3.jpg'); // turned ~27° to his own left
    const right = file('face_recognition/barack_obama_2.jpg'); // ~22° to his right
    const blank = () => sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();

    it('keeps the turned frames out of the embedding and liveness, reporting their yaw for the challenge', async () => {
      const frames = [frontal, left, frontal, right, frontal];
      const r = await pipeline.processBurst(frames, 'verify-active');
      assert.equal(r.quality.usedFrames, 3);
      assert.equal(r.liveness.perFrame.length, 1);
      assert.deepEqual(r.quality.frames.map((f) => (f.used ? 'used' : f.code)), ['used', 'face.turned', 'used', 'face.turned', 'used']);
      // The scored frame is a frontal one, never a turn.
      assert.ok([0, 2, 4].includes(r.quality.frames.findIndex((f) => f.used && f.livenessPerModel !== null)));
      const yaws = r.quality.frames.map((f) => f.yawDeg);
      assert.deepEqual(checkHeadTurns(['left', 'right'], yaws), { ok: true });
      assert.deepEqual(checkHeadTurns(['right', 'left'], yaws), { ok: false, reason: 'wrong_turns' });
      // The embedding is the frontal frames' alone: the same as a frontal-only burst's, up to which
      // frames took the detector's first look (drawn at random), and unlike one with the turns.
      const plain = await pipeline.processBurst([frontal, frontal, frontal], 'verify');
      const withTurns = await pipeline.processBurst(frames, 'verify');
      // The same burst as a plain verification aggregates every frame (the turns pass its 45° gate).
      assert.equal(withTurns.quality.usedFrames, 5);
      const same = cosine(r.embedding, plain.embedding);
      assert.ok(same > 0.995 && same > cosine(r.embedding, withTurns.embedding) + 0.01, `${same} vs ${cosine(r.embedding, withTurns.embedding)}`);
    });

    it('does not refuse a burst for its turned or faceless frames, but needs enough frontal ones', async () => {
      const empty = await blank();
      const r = await pipeline.processBurst([frontal, left, empty, frontal, right, empty, frontal], 'verify-active');
      assert.equal(r.quality.usedFrames, minFrontalFrames);
      assert.deepEqual(r.quality.frames[2], { index: 2, used: false, code: 'face.none', yawDeg: null });
      const halfEmpty = [frontal, empty, frontal, empty, frontal, empty];
      assert.equal((await pipeline.processBurst(halfEmpty, 'verify-active')).quality.usedFrames, 3);
      await assert.rejects(pipeline.processBurst(halfEmpty, 'verify'), fails('face.none'));
      await assert.rejects(pipeline.processBurst([frontal, left, frontal, right, empty], 'verify-active'), fails('face.too_few_frontal'));
      await assert.rejects(pipeline.processBurst([left, right, left], 'verify-active'), fails('face.too_few_frontal'));
    });

    it('refuses a turn made by someone else: turned frames must match the frontal ones', async () => {
      // Simon Helberg, turned ~42° to his left, spliced between Obama's frontal frames.
      const other = file('face_recognition_js/simon_helberg_3.png');
      await assert.rejects(pipeline.processBurst([frontal, other, frontal, right, frontal], 'verify-active'), fails('face.inconsistent'));
    });
  });

  it('refuses an empty burst', async () => {
    await assert.rejects(pipeline.processBurst([], 'verify'), fails('face.no_frames'));
  });
});
