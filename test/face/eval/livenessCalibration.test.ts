import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrateLiveness } from '../../../src/face/eval/livenessCalibration.ts';
import type { ScoredCapture } from '../../../src/face/eval/livenessVariants.ts';

const a = 'a.onnx';
const b = 'b.onnx';
/** A capture whose three frames score `sa` on model a and `sb` on model b. */
const cap = (id: string, species: string, sa: number, sb: number): ScoredCapture => ({ id, species, excluded: null, frames: [0, 1, 2].map(() => ({ [a]: sa, [b]: sb })) });

// 200 bona fide captures: model a spreads them over 0.5..1, model b over 0.6..1.
const live = Array.from({ length: 200 }, (_, k) => cap(`live${k}`, 'live', 0.5 + (0.5 * (k + 1)) / 201, 0.6 + (0.4 * (k + 1)) / 201));
// prints: model a is fooled by 5 of 20 (0.95), model b by none; replays: both see through all 10.
const prints = Array.from({ length: 20 }, (_, k) => cap(`print${k}`, 'print', k < 5 ? 0.95 : 0.1, 0.05));
const replays = Array.from({ length: 10 }, (_, k) => cap(`replay${k}`, 'replay', 0.05, 0.05));

test('calibration: threshold by the rule, BPCER and APCER per species with intervals, for every variant', () => {
  const c = calibrateLiveness([...live, ...prints, ...replays], [a, b], 'duo', 0.03);
  assert.equal(c.bonaFide, 200);
  assert.deepEqual(c.attacksBySpecies, { print: 20, replay: 10 });
  assert.equal(c.variants.length, 3 * 3);
  const d = c.deployed;
  assert.equal(d.variant.label, 'duo × 3 frames');
  assert.equal(d.modelRuns, 6);
  assert.equal(d.choice.kind, 'upper-bound');
  assert.equal(d.choice.allowedRejections, 1);
  assert.ok(d.metrics.bpcerInterval!.errors <= 1);
  assert.equal(d.metrics.bpcerInterval!.trials, 200);
  // the duo's score of a fooling print is (0.95 + 0.05) / 2 = 0.5, below every bona fide capture's
  assert.equal(d.metrics.apcerIntervalBySpecies.print.errors, 0);
  assert.equal(d.metrics.apcerIntervalBySpecies.print.trials, 20);
  assert.ok(d.metrics.apcerIntervalBySpecies.print.upper > 0.15 && d.metrics.apcerIntervalBySpecies.print.upper < 0.18); // 0/20: 16.8 %
  assert.equal(d.metrics.apcerIntervalBySpecies.replay.errors, 0);
  assert.equal(d.auc, 1);
  assert.ok(d.keepsApcer && d.noWorse);
  // model a alone lets the 5 fooling prints through: 25 % is above the duo's 16.8 % upper bound
  const aAlone = c.variants.find((v) => v.variant.label === 'a × 3 frames')!;
  assert.equal(aAlone.metrics.apcerIntervalBySpecies.print.errors, 5);
  assert.equal(aAlone.keepsApcer, false);
  assert.equal(aAlone.noWorse, false);
  // model b alone keeps every species at 0: a cheaper set-up the data cannot tell from the duo
  const bAlone = c.variants.find((v) => v.variant.label === 'b × 1 frame')!;
  assert.equal(bAlone.metrics.apcerIntervalBySpecies.print.errors, 0);
  assert.ok(bAlone.keepsApcer && bAlone.noWorse);
  assert.equal(bAlone.modelRuns, 1);
});

test('calibration needs bona fide captures', () => {
  assert.throws(() => calibrateLiveness([...prints], [a, b], 'duo', 0.03), RangeError);
});

test('"keeps APCER" (within the interval) is weaker than "no worse": a variant can pass the first and fail the second', () => {
  // model a fools on 1 of 20 prints: 5 % is inside the duo's 0–16.8 % interval, but worse than its 0 %
  const fewPrints = prints.map((p, k) => cap(p.id, 'print', k < 1 ? 0.95 : 0.1, 0.05));
  const c = calibrateLiveness([...live, ...fewPrints, ...replays], [a, b], 'duo', 0.03);
  const aAlone = c.variants.find((v) => v.variant.label === 'a × 3 frames')!;
  assert.equal(aAlone.metrics.apcerIntervalBySpecies.print.errors, 1);
  assert.equal(aAlone.keepsApcer, true);
  assert.equal(aAlone.noWorse, false);
});
