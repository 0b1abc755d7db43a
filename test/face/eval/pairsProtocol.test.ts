import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../../src/errors.ts';
import { kFoldAccuracy, parseLfwPairs, parsePairsCsv, parsePairsFile } from '../../../src/face/eval/pairsProtocol.ts';

const pairsError = (line: RegExp) => (e: unknown) => e instanceof InputError && e.code === 'eval.pairs' && line.test(e.message) && !e.message.includes('\n');

test("LFW's pairs.txt: folds of matched then mismatched lines, image names with 4-digit numbers", () => {
  const p = parseLfwPairs('2\t1\nAbel_Pacheco\t1\t4\nAbdel_Madi_Shabneh\t1\tDean_Barker\t1\nAkhmed_Zakayev\t1\t3\nAbdul_Rahman\t1\tPortia_de_Rossi\t1\n');
  assert.equal(p.folds, 2);
  assert.deepEqual(p.pairs[0], { a: { identity: 'Abel_Pacheco', file: 'Abel_Pacheco_0001' }, b: { identity: 'Abel_Pacheco', file: 'Abel_Pacheco_0004' }, same: true, fold: 0 });
  assert.deepEqual(p.pairs[1].b, { identity: 'Dean_Barker', file: 'Dean_Barker_0001' });
  assert.equal(p.pairs[1].same, false);
  assert.deepEqual(p.pairs.map((x) => x.fold), [0, 0, 1, 1]);
});

test('a pairs CSV: folds from its column, or consecutive blocks without one', () => {
  const withFold = parsePairsCsv('left,right,same,fold\na/1.jpg,a/2.jpg,1,7\na/1.jpg,b/1.jpg,0,3\nb/1.jpg,b/2.jpg,true,3\n');
  assert.equal(withFold.folds, 2);
  assert.deepEqual(withFold.pairs.map((x) => [x.fold, x.same]), [[1, true], [0, false], [0, true]]);
  const blocks = parsePairsCsv(`left,right,same\n${Array.from({ length: 20 }, (_, i) => `a/${i}.jpg,b/${i}.jpg,0`).join('\n')}\n`);
  assert.equal(blocks.folds, 10);
  assert.deepEqual(blocks.pairs.map((x) => x.fold), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  assert.equal(parsePairsFile('left,right,same,fold\na/1,a/2,1,1\nb/1,c/1,0,2\n', 'x.CSV').pairs.length, 2);
});

test('a bad pairs file is a one-line eval.pairs error naming the line', () => {
  assert.throws(() => parseLfwPairs('10 300\nonly one line\n'), pairsError(/expected 6000 pairs/));
  assert.throws(() => parseLfwPairs('2 1\nA 1 2\nA 1 B\nA 1 2\nB 1 C 1\n'), pairsError(/line 3/));
  assert.throws(() => parseLfwPairs('1100\n'), pairsError(/line 1/));
  assert.throws(() => parsePairsCsv('a,b\n'), pairsError(/left, right and same/));
  assert.throws(() => parsePairsCsv('left,right,same,fold\nx/1,x/2,maybe,1\nx/1,y/1,0,2\n'), pairsError(/line 2: same must be/));
  assert.throws(() => parsePairsCsv('left,right,same,fold\nx1,x/2,1,1\nx/1,y/1,0,2\n'), pairsError(/"x1" is not identity\/file/));
});

test('10-fold accuracy: the threshold comes from the 9 other folds, the accuracy from the held-out one', () => {
  // Each fold: genuine 0.8, 0.9; impostors 0.1, 0.2 — except fold 3, whose second impostor scores 0.85.
  const scores: number[] = [];
  const same: boolean[] = [];
  const fold: number[] = [];
  for (let f = 0; f < 10; f++) {
    for (const [s, g] of [[0.8, true], [0.9, true], [0.1, false], [f === 3 ? 0.85 : 0.2, false]] as const) {
      scores.push(s);
      same.push(g);
      fold.push(f);
    }
  }
  const r = kFoldAccuracy(scores, same, fold, 10);
  // Trained without fold 3: midway between 0.2 and 0.8. With it: still there (one error beats
  // rejecting the nine genuine 0.8 scores). Fold 3 then accepts its 0.85 impostor: 3/4.
  assert.deepEqual(r.folds.map((x) => x.threshold), new Array(10).fill(0.5));
  assert.deepEqual(r.folds.map((x) => x.accuracy), [1, 1, 1, 0.75, 1, 1, 1, 1, 1, 1]);
  assert.ok(Math.abs(r.mean - 0.975) < 1e-12);
  assert.ok(Math.abs(r.std - 0.075) < 1e-12);
});

test('a pair without a score (−∞: no face) is rejected, whatever the threshold', () => {
  const r = kFoldAccuracy([0.9, 0.7, -Infinity, 0.1, 0.2, 0.9, 0.8, 0.2], [true, true, true, false, false, true, true, false], [0, 0, 0, 0, 0, 1, 1, 1], 2);
  assert.deepEqual(r.folds.map((x) => x.threshold), [0.5, (0.2 + 0.7) / 2]);
  assert.equal(r.folds[0].accuracy, 4 / 5);
  assert.equal(r.folds[1].accuracy, 1);
});
