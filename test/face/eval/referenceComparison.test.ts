import assert from 'node:assert/strict';
import { test } from 'node:test';
import { l2Normalize } from '../../../src/face/embed.ts';
import { compareWithReference, type ComparedPhoto } from '../../../src/face/eval/referenceComparison.ts';

/** Deterministic pseudo-random numbers (mulberry32), so the figures below never change. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

const DIM = 32;
const rand = random(12);
const centres = Array.from({ length: 60 }, () => Float32Array.from({ length: DIM }, rand));
/** A photo of identity i: its centre plus noise of the given size, unit length. */
const shot = (i: number, noise: number) => l2Normalize(centres[i].map((v) => v + noise * rand()));

/** 60 identities × 2 photos: 60 genuine and 7,080 impostor pairs, enough for FMR 1e-3. */
function photos(projectNoise: number, referenceNoise: number): ComparedPhoto[] {
  return centres.flatMap((_, i) =>
    [0, 1].map((k) => ({ identity: `id${i}`, file: `id${i}_${k}.jpg`, kind: i < 10 ? 'tight' : 'full', project: shot(i, projectNoise), reference: { embedding: shot(i, referenceNoise) } })),
  );
}

const ref = { detector: 'yunet.onnx', recognizer: 'mfn.onnx' };
const kinds = ['full', 'tight'];

test('a project with tighter embeddings matches or beats the reference; the reverse does not', () => {
  const better = compareWithReference(photos(0.2, 1.2), ref, kinds);
  assert.equal(better.matchOrBeat, true);
  const all = better.sections.find((s) => s.subset === 'all' && s.rule === 'all')!;
  assert.ok(all.project.auc > all.reference.auc);
  assert.ok(all.project.atFmr['1e-3']!.fnmr.rate <= all.reference.atFmr['1e-3']!.fnmr.rate);
  assert.equal(compareWithReference(photos(1.2, 0.2), ref, kinds).matchOrBeat, false);
  // the same embeddings on both sides: a tie is a match
  const same = photos(0.5, 0.5).map((p) => ({ ...p, reference: { embedding: p.project! } }));
  assert.equal(compareWithReference(same, ref, kinds).matchOrBeat, true);
});

test('pair rules: "both" drops a photo either pipeline failed, "all" keeps it and counts its genuine pair as a non-match', () => {
  const list = photos(0.2, 0.2);
  list[0] = { ...list[0], reference: { failure: 'face.none' } };
  list[3] = { ...list[3], project: null };
  const c = compareWithReference(list, ref, kinds);
  assert.deepEqual(c.referenceFailures, [{ file: 'id0_0.jpg', code: 'face.none' }]);
  const both = c.sections.find((s) => s.subset === 'all' && s.rule === 'both')!;
  const all = c.sections.find((s) => s.subset === 'all' && s.rule === 'all')!;
  // both: 118 photos, the same pairs on each side
  assert.deepEqual([both.project.photos, both.project.failures, both.reference.failures], [118, 0, 0]);
  assert.deepEqual([both.project.genuinePairs, both.reference.genuinePairs], [58, 58]);
  // all: 120 photos, each pipeline's failure scores −∞: one false non-match it cannot avoid
  assert.deepEqual([all.project.photos, all.project.failures, all.reference.failures], [120, 1, 1]);
  assert.equal(all.project.genuinePairs, 60);
  assert.ok(all.reference.atFmr['1e-3']!.fnmr.errors >= 1 && all.project.atFmr['1e-3']!.fnmr.errors >= 1);
  assert.ok(both.reference.atFmr['1e-3']!.fnmr.errors < all.reference.atFmr['1e-3']!.fnmr.errors);
});

test('subsets: full photos and tight crops apart, and no verdict without 1,000 impostor pairs', () => {
  const c = compareWithReference(photos(0.2, 1.2), ref, kinds);
  const tight = c.sections.find((s) => s.subset === 'tight' && s.rule === 'all')!;
  const full = c.sections.find((s) => s.subset === 'full' && s.rule === 'all')!;
  assert.deepEqual([tight.project.photos, full.project.photos], [20, 100]);
  // 10 tight identities: 180 impostor pairs, FMR 1e-3 not measurable
  assert.equal(tight.project.impostorPairs, 180);
  assert.equal(tight.matchOrBeat, null);
  assert.equal(tight.project.atFmr['1e-3'], null);
  assert.notEqual(tight.project.atFmr['1e-2'], null);
  const small = compareWithReference(photos(0.2, 1.2).slice(0, 40), ref, kinds);
  assert.equal(small.matchOrBeat, null);
});
