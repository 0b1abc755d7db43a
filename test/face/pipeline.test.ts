import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { FacegateError, InputError } from '../../src/errors.ts';
import { cosine } from '../../src/face/embed.ts';
import { stages } from '../../src/face/frame.ts';
import { createFacePipeline, type FacePipeline } from '../../src/face/pipeline.ts';
import { livenessThreshold, matchThreshold } from '../../src/face/thresholds.ts';
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
    assert.equal(r.liveness.perFrame.length, 3);
    assert.equal(r.liveness.ensemble, 'pad-trio');
    assert.ok(r.liveness.aggregate >= livenessThreshold);
    assert.equal(r.quality.usedFrames, 3);
    for (const f of r.quality.frames) assert.ok(f.used && f.quality.pass && Object.keys(f.livenessPerModel).length === 3);
    for (const s of [...stages, 'total'] as const) assert.ok(r.timingsMs[s] > 0, s);
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
    assert.deepEqual(r.quality.frames[1], { index: 1, used: false, code: 'face.none' });
    assert.equal(r.liveness.perFrame.length, 2);
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

  it('sheds load with face.busy (503) when too many tasks wait, and serves the rest', async () => {
    const busy = createFacePipeline({ threads: 1, maxQueuedTasks: 3 });
    try {
      const face = file('face_recognition/barack_obama_1.jpg');
      const results = await Promise.allSettled([0, 1, 2, 3].map(() => busy.processBurst([face, face], 'verify')));
      const refused = results.filter((r) => r.status === 'rejected');
      assert.ok(results.some((r) => r.status === 'fulfilled'));
      assert.ok(refused.length > 0);
      for (const r of refused) assert.ok(r.status === 'rejected' && r.reason instanceof FacegateError && r.reason.code === 'face.busy' && r.reason.status === 503);
    } finally {
      await busy.close();
    }
  });

  it('refuses an empty burst', async () => {
    await assert.rejects(pipeline.processBurst([], 'verify'), fails('face.no_frames'));
  });
});
