import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../../src/face/eval/cli.ts';
import { FACES_DIR } from '../../support/shared.ts';

const faces = FACES_DIR;
const work = mkdtempSync(path.join(tmpdir(), 'facegate-eval-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A small layout: faceapi's 150×150 crops of 7 actors, two PAD samples; `halves` picks which parts. */
function smallLayout(name = 'data', halves: { identities?: boolean; pad?: boolean } = { identities: true, pad: true }): string {
  const data = path.join(work, name);
  mkdirSync(data, { recursive: true });
  if (halves.identities) linkIdentities(data);
  if (halves.pad) linkPad(data);
  return data;
}

function linkIdentities(data: string): void {
  for (const file of readdirSync(path.join(faces, 'faceapi'))) {
    const m = /^([a-z_]+)_\d+\.png$/.exec(file);
    if (!m || m[1].startsWith('anon_') || m[1] === 'jim_parsons') continue;
    mkdirSync(path.join(data, 'identities', m[1]), { recursive: true });
    symlinkSync(path.join(faces, 'faceapi', file), path.join(data, 'identities', m[1], file));
  }
}

function linkPad(data: string): void {
  for (const [species, file] of [['live', 'image_T1.jpg'], ['print', 'image_F1.jpg']]) {
    mkdirSync(path.join(data, 'pad', species), { recursive: true });
    symlinkSync(path.join(faces, 'pad', 'silentface', file), path.join(data, 'pad', species, file));
  }
}

/** A pairs CSV over the small layout: per actor, their first photo with each other one (same) and with the next actor's first (different). */
function pairsCsv(data: string): string {
  const ids = readdirSync(path.join(data, 'identities')).sort();
  const rows: string[] = [];
  ids.forEach((id, k) => {
    const files = readdirSync(path.join(data, 'identities', id)).sort();
    for (const f of files.slice(1)) rows.push(`${id}/${files[0]},${id}/${f},1`);
    const other = ids[(k + 1) % ids.length];
    for (const f of files.slice(1)) rows.push(`${id}/${f},${other}/${readdirSync(path.join(data, 'identities', other)).sort()[0]},0`);
  });
  const file = path.join(work, 'pairs.csv');
  writeFileSync(file, `left,right,same\n${rows.join('\n')}\n`);
  return file;
}

/** The CLI as a user runs it, in its own process: exit code and stderr. */
function runCli(args: string[]): { status: number | null; stderr: string } {
  const cli = path.join(import.meta.dirname, '..', '..', '..', 'src', 'face', 'eval', 'cli.ts');
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('bad arguments print the usage and exit 2', async () => {
  assert.equal(await main([]), 2);
  assert.equal(await main(['--out', 'x.json']), 2);
  assert.equal(await main(['--data', 'a', '--faces', 'b', '--out', 'x.json']), 2);
  assert.equal(await main(['--bogus']), 2);
});

test('eval on a small layout writes the JSON, Markdown and SVG: both face policies, the pairs protocol, PAD', async () => {
  const data = smallLayout();
  const out = path.join(work, 'out', 'report.json');
  assert.equal(await main(['--data', data, '--out', out, '--pairs', pairsCsv(data)]), 0);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const v = r.verification;
  assert.equal(v.policy, 'photo');
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
  for (const policy of ['photo', 'capture']) {
    const p = v.policies[policy];
    assert.equal(p.policy, policy);
    assert.equal(p.accepted + p.failedFiles.length, v.labelledPhotos);
    assert.equal(p.candidates.filter((c: { isDefault: boolean }) => c.isDefault).length, 1);
    // pairs protocol: 10 folds, a threshold per fold chosen on the other nine
    assert.equal(p.pairs.folds.length, 10);
    assert.ok(p.pairs.mean > 0.8 && p.pairs.mean <= 1, `${policy}: ${p.pairs.mean}`);
  }
  assert.deepEqual(v.pairsProtocol, { file: path.join(work, 'pairs.csv'), folds: 10, pairs: 48 });
  // the photo policy never refuses a photo the capture policy accepts
  assert.ok(v.policies.photo.accepted >= v.policies.capture.accepted);
  // 7 × 7 events are not enough for any FMR target: no match threshold is chosen from this data
  assert.equal(r.thresholds.match, null);
  // the deployed loa 3 threshold is measured, not chosen: its impostor events and FNMR on this data
  assert.equal(r.thresholds.strict.value, 0.48);
  assert.equal(r.thresholds.strict.fmr.trials, v.impostorPairs);
  assert.equal(r.thresholds.strict.fnmr.trials, v.genuinePairs);
  assert.match(r.thresholds.strict.rule, /^deployed value \(not chosen by this run\)/);
  assert.deepEqual(Object.keys(r.pad.apcerBySpecies), ['print']);
  assert.equal(typeof r.pad.bpcer, 'number');
  assert.equal(r.pad.bpcerInterval.trials, 1);
  assert.equal(typeof r.pad.threshold, 'number');
  assert.equal(r.pad.failures, 0);
  for (const stage of ['decode', 'detect', 'align', 'embed', 'liveness']) {
    assert.ok(r.timingsMs[stage].p50 > 0 && r.timingsMs[stage].p99 >= r.timingsMs[stage].p50, stage);
  }
  // issue 12's plain reference on the same photos: both pair rules; 7 actors give too few impostor pairs for a verdict
  const ref = v.reference.photos;
  assert.equal(ref.reference.detector, 'face_detection_yunet_2026may.onnx');
  assert.deepEqual(ref.sections.map((s: { subset: string; rule: string }) => `${s.subset}/${s.rule}`), ['all/both', 'all/all', 'tight/both', 'tight/all']);
  const all = ref.sections[1];
  assert.equal(all.project.photos, v.labelledPhotos);
  assert.equal(all.reference.failures, ref.referenceFailures.length);
  assert.ok(all.reference.auc > 0.5 && all.reference.genuinePairs === all.project.genuinePairs);
  assert.equal(all.project.atFmr['1e-3'], null);
  assert.equal(ref.matchOrBeat, null);
  // and on each photo's first capture frame: enlarged 150 px crops are not webcam-like
  const frames = v.reference.frames;
  assert.deepEqual(frames.sections.map((s: { subset: string; rule: string }) => `${s.subset}/${s.rule}`), ['all/both', 'all/all', 'other/both', 'other/all']);
  assert.equal(frames.sections[1].project.photos, v.labelledPhotos);
  const md = readFileSync(path.join(work, 'out', 'REPORT.md'), 'utf8');
  assert.ok(md.includes('**Match or beat at FMR 1e-3 and AUC: n/a (FMR 1e-3 not measurable)**'));
  assert.ok(md.includes('**On webcam frames, match or beat at FMR 1e-3 and AUC: n/a (FMR 1e-3 not measurable)**'));
  assert.ok(md.includes('| all frames | all | project stages (capture policy) |'));
  assert.ok(md.includes('| all labelled photos | all | plain reference |') && md.includes('| all labelled photos | both | project stages (photo policy) |'));
  assert.ok(md.includes('![DET curves](det.svg)'));
  assert.ok(md.includes('- `strictMatchThreshold` (loa 3) = **0.48**: deployed value'));
  assert.ok(md.includes('FMR 1e-4') && md.includes('n/a (needs ≥ 10000 impostor pairs)'));
  assert.ok(md.includes('| photo |') && md.includes('| capture |') && md.includes('10-fold pair accuracy'));
  assert.ok(existsSync(path.join(work, 'out', 'det.svg')));
  assert.deepEqual(readdirSync(path.join(work, 'out')).sort(), ['REPORT.md', 'det.svg', 'report.json']);
});

test('a layout with only identities/ reports verification, and says liveness was not measured', async () => {
  const out = path.join(work, 'photos-only', 'report.json');
  assert.equal(await main(['--data', smallLayout('photos', { identities: true }), '--out', out]), 0);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.verification.identities, 7);
  assert.equal(r.pad, null);
  assert.equal(r.thresholds.liveness, null);
  assert.ok(readFileSync(path.join(work, 'photos-only', 'REPORT.md'), 'utf8').includes('Not measured: the layout has no pad/.'));
});

test('a layout with only pad/ reports liveness, and says verification was not measured', async () => {
  const out = path.join(work, 'pad-only', 'report.json');
  assert.equal(await main(['--data', smallLayout('padonly', { pad: true }), '--out', out]), 0);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.verification, null);
  assert.equal(r.thresholds.match, null);
  assert.deepEqual(Object.keys(r.pad.apcerBySpecies), ['print']);
  assert.ok(readFileSync(path.join(work, 'pad-only', 'REPORT.md'), 'utf8').includes('Not measured: the layout has no identities/.'));
  assert.deepEqual(readdirSync(path.join(work, 'pad-only')).sort(), ['REPORT.md', 'report.json']);
});

test('every bad layout or pairs file is one line on stderr with a stable code, exit 1, no stack trace', () => {
  const empty = path.join(work, 'empty');
  mkdirSync(empty);
  const lonely = path.join(work, 'lonely', 'identities', 'jim_parsons');
  mkdirSync(lonely, { recursive: true });
  for (const n of [1, 2]) symlinkSync(path.join(faces, 'faceapi', `jim_parsons_${n}.png`), path.join(lonely, `jim_parsons_${n}.png`));
  const badPairs = path.join(work, 'bad-pairs.csv');
  writeFileSync(badPairs, 'left,right,same,fold\nkaley_cuoco/kaley_cuoco_1.png,nobody/x.png,0,1\nkaley_cuoco/kaley_cuoco_1.png,kaley_cuoco/kaley_cuoco_2.png,1,2\n');
  const out = path.join(work, 'never', 'report.json');
  const cases: Array<[string[], RegExp]> = [
    [['--data', path.join(work, 'missing')], /^error eval\.layout: .*missing is not a directory$/],
    [['--data', empty], /^error eval\.layout: .*empty has neither identities\/<id>\/\* nor pad\/<species>\/\*$/],
    [['--data', path.join(work, 'lonely')], /^error eval\.layout: .*needs at least two identities/],
    [['--data', smallLayout('pairs-bad', { identities: true }), '--pairs', badPairs], /^error eval\.pairs: .*nobody\/x\.png is not an image under identities\/$/],
    [['--data', smallLayout('pairs-none', { identities: true }), '--pairs', path.join(work, 'no-such-pairs.txt')], /^error eval\.pairs: .*no-such-pairs\.txt cannot be read \(ENOENT\)$/],
    [['--faces', empty], /^error eval\.layout: .*labels\.csv does not exist/],
  ];
  for (const [args, expected] of cases) {
    const r = runCli([...args, '--out', out]);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^(identities|photo policy|capture policy|layout):/.test(l));
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], expected);
  }
  assert.equal(existsSync(out), false);
});
