import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../../src/face/eval/cli.ts';
import { FACES_DIR } from '../../support/shared.ts';

const work = mkdtempSync(path.join(tmpdir(), 'facegate-liveness-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

type Files = Record<string, string>; // layout path → collection path
const bonaFide: Files = {
  'identities/barack_obama/obama_1.jpg': 'face_recognition/barack_obama_1.jpg',
  'identities/joe_biden/biden_1.jpg': 'face_recognition/joe_biden_1.jpg',
  'identities/amy_adams/amy_1.jpg': 'openface/amy_adams_1.jpg',
  // a 150×150 greyscale crop: scored, but not a webcam-like capture
  'identities/kaley_cuoco/kaley_1.png': 'faceapi/kaley_cuoco_1.png',
  'pad/live/T1.jpg': 'pad/silentface/image_T1.jpg',
};
const attacks: Files = { 'pad/print/F1.jpg': 'pad/silentface/image_F1.jpg', 'pad/replay/F2.jpg': 'pad/silentface/image_F2.jpg' };

function layout(name: string, files: Files): string {
  const root = path.join(work, name);
  for (const [to, from] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    symlinkSync(path.join(FACES_DIR, from), path.join(root, to));
  }
  mkdirSync(root, { recursive: true });
  return root;
}

/** The command as a user runs it, in its own process. */
function runCli(args: string[]): { status: number | null; stderr: string } {
  const cli = path.join(import.meta.dirname, '..', '..', '..', 'src', 'face', 'eval', 'cli.ts');
  const r = spawnSync(process.execPath, [cli, 'liveness', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('liveness on a tiny layout: bursts through the pipeline, a threshold by the stated rule, APCER per species, every variant', async () => {
  const data = layout('tiny', { ...bonaFide, ...attacks });
  const out = path.join(work, 'out', 'LIVENESS.md');
  const json = path.join(work, 'out', 'liveness.json');
  assert.equal(await main(['liveness', '--data', data, '--out', out, '--json', json]), 0);
  const r = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(r.sources.length, 7);
  assert.deepEqual(r.failures, []);
  assert.equal(r.scored.find((c: { id: string }) => c.id.endsWith('kaley_1.png')).excluded, 'greyscale');
  for (const c of r.scored) {
    assert.equal(c.frames.length, 3, c.id);
    for (const f of c.frames) assert.deepEqual(Object.keys(f).sort(), [...r.models].sort());
  }
  const d = r.calibration.deployed;
  assert.equal(r.calibration.bonaFide, 4);
  assert.deepEqual(r.calibration.attacksBySpecies, { print: 1, replay: 1 });
  // Every frame is scored, and the deployed set-up is the pipeline's: one frame of the three.
  assert.equal(d.variant.label, 'pad-trio × 1 frame');
  // 4 bona fide captures cannot bound BPCER at 3 %: every one must pass, and the rule says so
  assert.equal(d.choice.demonstrable, false);
  assert.equal(d.choice.rejections, 0);
  assert.equal(r.calibration.variants.length, 21);
  const md = readFileSync(out, 'utf8');
  assert.ok(md.includes(`**livenessThreshold = ${d.choice.threshold.toFixed(2)}**`));
  assert.ok(md.includes('target not demonstrated'));
  assert.ok(md.includes('**Calibrated on 4 bona fide captures.**') && md.includes('greyscale 1'));
  assert.match(md, /\| print \| \d+(\.\d)? % \(\d\/1; /);
  assert.match(md, /\| replay \| \d+(\.\d)? % \(\d\/1; /);
  assert.equal(md.split('\n').filter((l) => / × \d frames? \| \d+ \| /.test(l)).length, 21);
});

test('every bad liveness layout is one line on stderr with a stable code, exit 1, no stack trace', () => {
  const noPad = layout('nopad', { 'identities/barack_obama/obama_1.jpg': bonaFide['identities/barack_obama/obama_1.jpg'] });
  const noBonaFide = layout('nobonafide', attacks);
  const noAttacks = layout('noattacks', { 'pad/live/T1.jpg': bonaFide['pad/live/T1.jpg'], 'identities/joe_biden/biden_1.jpg': bonaFide['identities/joe_biden/biden_1.jpg'] });
  const notCollection = path.join(work, 'notacollection');
  mkdirSync(notCollection);
  writeFileSync(path.join(work, 'afile'), 'x');
  const photosOnly = path.join(work, 'photosonly');
  mkdirSync(photosOnly);
  writeFileSync(path.join(photosOnly, 'labels.csv'), `path,identity\n${path.join(FACES_DIR, 'face_recognition/barack_obama_1.jpg')},barack_obama\n`);
  const cases: Array<[string[], RegExp]> = [
    [['--data', noPad], /^error eval\.layout: .*nopad has no pad\//],
    [['--data', noBonaFide], /^error eval\.layout: .*nobonafide has no bona fide photos/],
    [['--data', noAttacks], /^error eval\.layout: .*noattacks has no attack samples/],
    [['--data', path.join(work, 'missing')], /^error eval\.layout: .*missing is not a directory/],
    [['--data', path.join(work, 'afile')], /^error eval\.layout: .*afile is not a directory/],
    [['--faces', notCollection], /^error eval\.layout: .*labels\.csv does not exist/],
    [['--faces', photosOnly], /^error eval\.layout: .*photosonly has no pad\//],
  ];
  for (const [args, expected] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], expected);
  }
});

test('bad arguments print the usage and exit 2; --help exits 0', async () => {
  assert.equal(await main(['liveness', '--bogus']), 2);
  assert.equal(await main(['liveness', '--data', 'a', '--faces', 'b']), 2);
  assert.equal(await main(['liveness', '--help']), 0);
});
