import assert from 'node:assert/strict';
import { test } from 'node:test';
import { padMetrics, thresholdAtBpcer } from '../../../src/face/eval/padMetrics.ts';

test('BPCER and APCER per species at a threshold', () => {
  const m = padMetrics([0.9, 0.8, 0.4], { print: [0.1, 0.6], replay: [0.2] }, 0.5);
  assert.equal(m.bpcer, 1 / 3);
  assert.equal(m.bpcerInterval?.trials, 3);
  assert.deepEqual(m.apcerBySpecies, { print: 0.5, replay: 0 });
  assert.equal(m.apcerIntervalBySpecies.print.errors, 1);
  assert.equal(m.apcerIntervalBySpecies.replay.trials, 1);
  assert.equal(m.maxApcer, 0.5);
});

test('a score equal to the threshold is accepted as live', () => {
  const m = padMetrics([0.5], { print: [0.5] }, 0.5);
  assert.equal(m.bpcer, 0);
  assert.equal(m.apcerBySpecies.print, 1);
});

test('no bona fide samples: BPCER is null, not zero', () => {
  const m = padMetrics([], { print: [0.1] }, 0.5);
  assert.equal(m.bpcer, null);
  assert.equal(m.bpcerInterval, null);
});

test('threshold at a BPCER target', () => {
  const live = Array.from({ length: 20 }, (_, i) => (i + 1) / 20);
  assert.equal(thresholdAtBpcer(live, 0.05), 0.1); // one of twenty may fail
  assert.equal(thresholdAtBpcer([0.7, 0.3, 0.9], 0.05), 0.3); // too few to allow any failure
  assert.equal(thresholdAtBpcer([], 0.05), null);
});
