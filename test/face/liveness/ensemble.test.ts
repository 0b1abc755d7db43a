import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import { decodeImage } from '../../../src/face/decode.ts';
import { detectDominantFace } from '../../../src/face/detect.ts';
import { aggregateLiveness, createLivenessEnsemble } from '../../../src/face/liveness/ensemble.ts';
import { loadManifest } from '../../../src/face/models.ts';
import { livenessThreshold } from '../../../src/face/thresholds.ts';
import { FACES_DIR } from '../../support/shared.ts';

const pad = path.join(FACES_DIR, 'pad');

async function face(file: string) {
  const image = await decodeImage(new Uint8Array(readFileSync(path.join(pad, file))));
  return { image, detection: await detectDominantFace(image) };
}

test('aggregate is the median: one outlier frame cannot decide either way', () => {
  assert.equal(aggregateLiveness([0.1, 0.99, 0.2]), 0.2);
  assert.equal(aggregateLiveness([0.95, 0.05, 0.9]), 0.9);
  assert.equal(aggregateLiveness([0.4, 0.8]), 0.6000000000000001);
  assert.equal(aggregateLiveness([0.7]), 0.7);
  assert.throws(() => aggregateLiveness([]), RangeError);
});

test('the default ensemble is the manifest default, with one score per member', async () => {
  const ensemble = await createLivenessEnsemble();
  assert.equal(ensemble.name, loadManifest().defaults.liveness);
  const { image, detection } = await face('silentface/image_T1.jpg');
  const r = await ensemble.scoreFrame(image, detection);
  const members = loadManifest().liveness[ensemble.name];
  assert.deepEqual(Object.keys(r.perModel), members);
  const mean = Object.values(r.perModel).reduce((a, b) => a + b, 0) / members.length;
  assert.ok(Math.abs(r.score - mean) < 1e-12);
  for (const p of Object.values(r.perModel)) assert.ok(p >= 0 && p <= 1);
});

test('an unknown ensemble is a configuration error', async () => {
  await assert.rejects(createLivenessEnsemble('no-such-ensemble'), ConfigError);
});

// Bona fide captures pass the default threshold; the clear attacks fail it. vietmoney replay_1
// (a recapture judged by eye, scoring near the threshold) is reported in eval/REPORT.md, not asserted.
const live = ['silentface/image_T1.jpg', 'vietmoney/live_1.jpg', 'vietmoney/live_2.jpg', 'vietmoney/live_3.png', 'khanhngit-ssan/live_1.jpg'];
const clearAttacks = [
  'silentface/image_F1.jpg',
  'silentface/image_F2.jpg',
  'vietmoney/print_1.jpg',
  'vietmoney/replay_2.jpg',
  'khanhngit-ssan/replay_1.jpg',
  'dtruong46me-fas/replay_1.jpg',
];

test('live samples score at or above the liveness threshold, clear attacks below', async () => {
  const ensemble = await createLivenessEnsemble();
  for (const file of live) {
    const { image, detection } = await face(file);
    const { score } = await ensemble.scoreFrame(image, detection);
    assert.ok(score >= livenessThreshold, `${file}: ${score}`);
  }
  for (const file of clearAttacks) {
    const { image, detection } = await face(file);
    const { score } = await ensemble.scoreFrame(image, detection);
    assert.ok(score < livenessThreshold, `${file}: ${score}`);
  }
});
