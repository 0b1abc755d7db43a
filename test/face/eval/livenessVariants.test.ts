import assert from 'node:assert/strict';
import { test } from 'node:test';
import { livenessVariants, modelShortName, variantScore, type ScoredCapture } from '../../../src/face/eval/livenessVariants.ts';

const models = ['2.7_80x80_MobileFaceNetPv4.onnx', 'facenox_98.20_128.onnx', 'hyperfas_224.onnx'];
const [pv4, facenox, hyperfas] = models;

test('every non-empty subset with 1..3 frames: the deployed set-up first, then by model runs', () => {
  const v = livenessVariants(models, 3, 'pad-trio');
  assert.equal(v.length, 7 * 3);
  assert.deepEqual(v[0], { label: 'pad-trio × 3 frames', models, frames: 3 });
  assert.deepEqual(v[1], { label: `${modelShortName(pv4)} × 1 frame`, models: [pv4], frames: 1 });
  const runs = v.slice(1).map((x) => x.models.length * x.frames);
  assert.deepEqual(runs, [...runs].sort((a, b) => a - b));
  assert.ok(v.some((x) => x.label === 'Pv4+HyperFAS × 2 frames'));
  assert.equal(new Set(v.map((x) => x.label)).size, v.length);
});

test('the deployed set-up comes first when it scores fewer frames than the burst has', () => {
  const v = livenessVariants(models, 3, 'pad-trio', 1);
  assert.equal(v.length, 7 * 3);
  assert.deepEqual(v[0], { label: 'pad-trio × 1 frame', models, frames: 1 });
  assert.ok(v.some((x) => x.label === 'pad-trio × 3 frames'));
});

const capture: ScoredCapture = {
  id: 'x',
  species: 'live',
  excluded: null,
  frames: [
    { [pv4]: 0.9, [facenox]: 0.6, [hyperfas]: 0.3 }, // mean 0.6
    { [pv4]: 0.3, [facenox]: 0.3, [hyperfas]: 0.3 }, // mean 0.3
    { [pv4]: 1.0, [facenox]: 0.9, [hyperfas]: 0.8 }, // mean 0.9
  ],
};

test('a variant scores a capture as the pipeline would: mean over its models per frame, median over its frames', () => {
  const all = livenessVariants(models, 3, 'pad-trio');
  const find = (label: string) => all.find((v) => v.label === label)!;
  assert.ok(Math.abs(variantScore(capture, find('pad-trio × 3 frames'))! - 0.6) < 1e-12); // median(0.6, 0.3, 0.9)
  assert.ok(Math.abs(variantScore(capture, find('pad-trio × 2 frames'))! - 0.45) < 1e-12); // mean of two: (0.6 + 0.3) / 2
  assert.ok(Math.abs(variantScore(capture, find('pad-trio × 1 frame'))! - 0.6) < 1e-12);
  assert.ok(Math.abs(variantScore(capture, find('Pv4 × 3 frames'))! - 0.9) < 1e-12); // median(0.9, 0.3, 1.0)
  assert.ok(Math.abs(variantScore(capture, find('Pv4+HyperFAS × 1 frame'))! - 0.6) < 1e-12);
});

test('a capture with fewer frames uses what it has; one missing a model is not scored by variants that need it', () => {
  const short: ScoredCapture = { ...capture, frames: [capture.frames[0]] };
  assert.ok(Math.abs(variantScore(short, { label: '', models, frames: 3 })! - 0.6) < 1e-12);
  const partial: ScoredCapture = { ...capture, frames: [{ [pv4]: 0.5 }] };
  assert.equal(variantScore(partial, { label: '', models: [facenox], frames: 1 }), null);
  assert.equal(variantScore({ ...capture, frames: [] }, { label: '', models, frames: 3 }), null);
});
