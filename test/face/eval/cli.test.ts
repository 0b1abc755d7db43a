import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../../src/face/eval/cli.ts';
import { FACES_DIR } from '../../support/shared.ts';

const faces = FACES_DIR;
const work = mkdtempSync(path.join(tmpdir(), 'facegate-eval-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A small layout: faceapi's 150×150 crops of the 8 actors, two PAD samples. */
function smallLayout(): string {
  const data = path.join(work, 'data');
  for (const file of readdirSync(path.join(faces, 'faceapi'))) {
    const m = /^([a-z_]+)_\d+\.png$/.exec(file);
    if (!m || m[1].startsWith('anon_') || m[1] === 'jim_parsons') continue;
    mkdirSync(path.join(data, 'identities', m[1]), { recursive: true });
    symlinkSync(path.join(faces, 'faceapi', file), path.join(data, 'identities', m[1], file));
  }
  for (const [species, file] of [['live', 'image_T1.jpg'], ['print', 'image_F1.jpg']]) {
    mkdirSync(path.join(data, 'pad', species), { recursive: true });
    symlinkSync(path.join(faces, 'pad', 'silentface', file), path.join(data, 'pad', species, file));
  }
  return data;
}

test('bad arguments print the usage and exit 2', async () => {
  assert.equal(await main([]), 2);
  assert.equal(await main(['--out', 'x.json']), 2);
  assert.equal(await main(['--data', 'a', '--faces', 'b', '--out', 'x.json']), 2);
  assert.equal(await main(['--bogus']), 2);
});

test('eval on a small layout writes the JSON, Markdown and SVG with the required fields', async () => {
  const out = path.join(work, 'out', 'report.json');
  assert.equal(await main(['--data', smallLayout(), '--out', out]), 0);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const v = r.verification;
  assert.equal(v.identities, 7);
  assert.ok(v.genuinePairs > 0 && v.impostorPairs >= 100 && v.impostorPairs < 1000);
  assert.ok(v.auc > 0.9 && v.auc <= 1);
  assert.ok(v.eer >= 0 && v.eer < 0.2);
  // fewer than 1,000 impostor pairs: only FMR 1e-2 is measurable, the others are null, not extrapolated
  assert.equal(typeof v.fnmrAtFmr['1e-2'], 'number');
  assert.equal(typeof v.thresholdAtFmr['1e-2'], 'number');
  assert.equal(v.fnmrAtFmr['1e-3'], null);
  assert.equal(v.fnmrAtFmr['1e-4'], null);
  assert.equal(v.thresholdAtFmr['1e-4'], null);
  assert.deepEqual(Object.keys(r.pad.apcerBySpecies), ['print']);
  assert.equal(typeof r.pad.bpcer, 'number');
  assert.equal(r.pad.bpcerInterval.trials, 1);
  assert.equal(typeof r.pad.apcerBySpecies.print, 'number');
  assert.equal(typeof r.pad.threshold, 'number');
  assert.equal(r.detection.images, r.verification.images + r.detection.failures);
  for (const stage of ['decode', 'detect', 'align', 'embed', 'liveness']) {
    assert.ok(r.timingsMs[stage].p50 > 0 && r.timingsMs[stage].p99 >= r.timingsMs[stage].p50, stage);
  }
  const md = readFileSync(path.join(work, 'out', 'REPORT.md'), 'utf8');
  assert.ok(md.includes('![DET curves](det.svg)'));
  assert.ok(md.includes('FMR 1e-4') && md.includes('n/a (needs ≥ 10000 impostor pairs)'));
  assert.ok(existsSync(path.join(work, 'out', 'det.svg')));
  assert.deepEqual(readdirSync(path.join(work, 'out')).sort(), ['REPORT.md', 'det.svg', 'report.json']);
});
