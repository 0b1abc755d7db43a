import assert from 'node:assert/strict';
import { test } from 'node:test';
import { areaUnderRoc, nextUp, sortedScores, thresholdAtFmr, verificationMetrics } from '../../../src/face/eval/verificationMetrics.ts';

test('AUC counts genuine-over-impostor wins, ties as one half', () => {
  assert.equal(areaUnderRoc([0.9, 0.8, 0.7], [0.1, 0.2, 0.75]), 8 / 9);
  assert.equal(areaUnderRoc([0.5], [0.5]), 0.5);
  assert.equal(areaUnderRoc([1, 2], [0, 0.5]), 1);
});

test('EER is where FMR and FNMR meet', () => {
  const m = verificationMetrics([0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.65]);
  assert.equal(m.eer, 0.25);
  assert.equal(m.eerThreshold, 0.65);
});

test('threshold at FMR 1e-2 on 100 impostors lets exactly one through', () => {
  const impostor = Array.from({ length: 100 }, (_, i) => i / 100);
  const genuine = [0.985, 0.995, 0.5];
  const m = verificationMetrics(genuine, impostor);
  const p = m.atFmr['1e-2'];
  assert.ok(p);
  assert.ok(p.threshold > 0.98 && p.threshold < 0.98 + 1e-12);
  assert.equal(p.fmr.errors, 1);
  assert.equal(p.fnmr.errors, 1); // 0.5 rejected; 0.985 and 0.995 accepted
  assert.equal(m.atFmr['1e-3'], null);
  assert.equal(m.atFmr['1e-4'], null);
});

test('FMR points are null below 1/FMR impostor pairs, never extrapolated', () => {
  const impostor = Array.from({ length: 999 }, (_, i) => i / 1000);
  assert.equal(thresholdAtFmr(impostor, 1e-3), null);
  assert.notEqual(thresholdAtFmr([...impostor, 0.9995], 1e-3), null);
  assert.equal(thresholdAtFmr([], 1e-2), null);
});

test('with 1000 impostors FMR 1e-3 allows one false match, ties included', () => {
  const impostor = [...new Array(998).fill(0.1), 0.4, 0.4];
  const t = thresholdAtFmr(impostor.sort((a, b) => a - b), 1e-3);
  // the two tied scores at 0.4 would give FMR 2e-3, so the threshold must exclude both
  assert.equal(t, nextUp(0.4));
});

test('nextUp steps one ulp in either sign', () => {
  assert.ok(nextUp(0.3) > 0.3 && nextUp(0.3) - 0.3 < 1e-16);
  assert.ok(nextUp(-0.3) > -0.3 && nextUp(-0.3) + 0.3 < 1e-16);
  assert.equal(nextUp(0), Number.MIN_VALUE);
});

test('the DET curve goes from all accepted to few accepted', () => {
  const { det } = verificationMetrics([0.8, 0.9], [0.1, 0.85]);
  assert.deepEqual(det[0], { threshold: 0.1, fmr: 1, fnmr: 0 });
  assert.deepEqual(det.at(-1), { threshold: 0.9, fmr: 0, fnmr: 0.5 });
});

test('the DET curve keeps points 0.01 decade apart and its end', () => {
  const impostor = Array.from({ length: 10_000 }, (_, i) => i / 10_000);
  const { det } = verificationMetrics([0.99995], impostor);
  assert.ok(det.length > 200 && det.length < 300, `${det.length} points`);
  for (let k = 1; k < det.length - 1; k++) assert.ok(Math.log10(det[k - 1].fmr) - Math.log10(det[k].fmr) >= 0.01 - 1e-12);
  assert.deepEqual(det.at(-1), { threshold: 0.99995, fmr: 0, fnmr: 0 });
});

test('typed arrays of either precision give the same figures as plain arrays', () => {
  const g = [0.6, 0.7, 0.8, 0.9];
  const im = [0.1, 0.2, 0.3, 0.65];
  const plain = verificationMetrics(g, im);
  assert.deepEqual(verificationMetrics(Float64Array.from(g), Float64Array.from(im)), plain);
  const single = verificationMetrics(Float32Array.from([0.5, 0.75]), Float32Array.from([0.25, 0.5]));
  assert.equal(single.auc, 0.875);
});

test('scores are sorted as copies and NaN is refused', () => {
  const im = Float32Array.from([0.3, 0.1, 0.2]);
  assert.deepEqual([...sortedScores(im)], [...Float32Array.from([0.1, 0.2, 0.3])]);
  assert.deepEqual([...im], [...Float32Array.from([0.3, 0.1, 0.2])]);
  assert.throws(() => verificationMetrics([0.5], [0.1, NaN]), /NaN/);
});

test('empty score sets are rejected', () => {
  assert.throws(() => verificationMetrics([], [0.1]), RangeError);
});
