import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../../src/face/cli.ts';
import { livenessThreshold, matchThreshold } from '../../src/face/thresholds.ts';
import { FACES_DIR } from '../support/shared.ts';

const faces = FACES_DIR;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('facegate face verify', () => {
  it('prints match and liveness scores of two photos of the same person and decides from both thresholds', async () => {
    const c = capture();
    const code = await run(['face', 'verify', `${faces}/face_recognition/barack_obama_1.jpg`, `${faces}/face_recognition/barack_obama_2.jpg`], c.io);
    const match = Number(/^match\s+(\d\.\d{3}) /.exec(c.out[0])?.[1]);
    assert.ok(match >= matchThreshold && /same person/.test(c.out[0]));
    const [, a, b] = /^liveness\s+A (\d\.\d{3}) \w+, B (\d\.\d{3}) \w+/.exec(c.out[1]) ?? [];
    const accepted = Number(a) >= livenessThreshold && Number(b) >= livenessThreshold;
    if (accepted) assert.equal(c.out[2], 'decision  accept');
    else assert.match(c.out[2], /^decision  reject \([AB] not live/);
    assert.equal(code, accepted ? 0 : 1);
  });

  it('rejects different people', async () => {
    const c = capture();
    const code = await run(['face', 'verify', `${faces}/face_recognition/barack_obama_1.jpg`, `${faces}/face_recognition/joe_biden_1.jpg`], c.io);
    assert.match(c.out[0], /different people/);
    assert.match(c.out[2], /^decision  reject \(no match/);
    assert.equal(code, 1);
  });

  it('rejects a printed-photo attack as not live', async () => {
    const c = capture();
    const code = await run(['face', 'verify', `${faces}/pad/silentface/image_T1.jpg`, `${faces}/pad/silentface/image_F1.jpg`], c.io);
    assert.match(c.out[1], /B 0\.\d{3} attack/);
    assert.match(c.out[2], /B not live/);
    assert.equal(code, 1);
  });

  it('names the image that has no single face, and a file that cannot be read', async () => {
    const c = capture();
    assert.equal(await run(['face', 'verify', `${faces}/face_recognition/barack_obama_1.jpg`, `${faces}/deepface/couple.jpg`], c.io), 1);
    assert.match(c.err[0], /^B \(.*couple\.jpg\): error face\.multiple/);
    const d = capture();
    assert.equal(await run(['face', 'verify', '/nonexistent.jpg', `${faces}/deepface/couple.jpg`], d.io), 1);
    assert.match(d.err[0], /cannot read \/nonexistent\.jpg: ENOENT/);
  });

  it('prints usage for wrong arguments', async () => {
    const c = capture();
    assert.equal(await run(['face', 'verify', 'a.jpg'], c.io), 2);
    assert.match(c.err[0], /usage/);
  });
});
