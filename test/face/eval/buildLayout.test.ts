import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildEvalLayout, padSpecies, parseLabels } from '../../../src/face/eval/buildLayout.ts';
import { FACES_DIR } from '../../support/shared.ts';

const faces = FACES_DIR;
const out = mkdtempSync(path.join(tmpdir(), 'facegate-layout-'));
after(() => rmSync(out, { recursive: true, force: true }));

test('labels.csv rows are read by column name', () => {
  const rows = parseLabels('path,identity,source,license\na/x_1.jpg,x,o/r@c:p,MIT\n\nb/y_1.png,y,o/r@c:q,MIT\n');
  assert.deepEqual(rows, [
    { path: 'a/x_1.jpg', identity: 'x' },
    { path: 'b/y_1.png', identity: 'y' },
  ]);
});

test('PAD species from the file-name prefix, with the Silent-Face naming', () => {
  assert.equal(padSpecies('silentface', 'image_T1.jpg'), 'live');
  assert.equal(padSpecies('silentface', 'image_F1.jpg'), 'print');
  assert.equal(padSpecies('silentface', 'image_F2.jpg'), 'replay');
  assert.equal(padSpecies('vietmoney', 'live_3.png'), 'live');
  assert.equal(padSpecies('vietmoney', 'replay_2.jpg'), 'replay');
  assert.equal(padSpecies('vietmoney', 'notes.txt'), null);
});

test('the shared collection gives 252 photos of 68 identities and the PAD species', () => {
  const summary = buildEvalLayout(faces, out);
  assert.equal(summary.images, 252);
  assert.equal(summary.identities, 68);
  assert.deepEqual(summary.pad, { live: 5, print: 2, replay: 5 });
  assert.equal(readdirSync(path.join(out, 'identities')).length, 68);
  const jim = readdirSync(path.join(out, 'identities', 'jim_parsons'));
  assert.ok(jim.some((f) => f.startsWith('faceapi__')) && jim.some((f) => f.startsWith('face_recognition_js__')));
  const t1 = path.join(out, 'pad', 'live', 'silentface__image_T1.jpg');
  assert.equal(readlinkSync(t1), path.join(faces, 'pad', 'silentface', 'image_T1.jpg'));
  assert.ok(existsSync(t1));
});
