import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkModels, fetchModels, run } from '../../src/face/modelsCli.ts';
import { repoRoot } from '../../src/face/models.ts';

const shared = path.join(repoRoot, '..', 'shared', 'models');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'facegate-models-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

/** Serves the shared copy of a model in place of its upstream URL (tests never reach the network). */
function localFetch(corrupt = false): typeof fetch {
  return (async (url: string | URL | Request) => {
    const bytes = readFileSync(path.join(shared, path.basename(String(url))));
    if (corrupt) bytes[500] ^= 1;
    return new Response(bytes);
  }) as typeof fetch;
}

describe('facegate models check', () => {
  it('reports every model present and intact', async () => {
    const c = capture();
    assert.equal(await run(['models', 'check'], c.io), 0);
    assert.equal(c.out.filter((l) => l.startsWith('ok')).length, 10);
    assert.deepEqual(c.err, []);
  });

  it('reports a missing model', () => {
    const [s] = checkModels({ searchDirs: [tmp] }, ['hyperfas_224.onnx']);
    assert.ok(!s.ok && s.missing && s.message.includes('hyperfas_224.onnx'));
  });
});

describe('facegate models fetch', () => {
  it('a missing file without an upstream URL is reported clearly, and fails', async () => {
    const dir = mkdtempSync(path.join(tmp, 'nourl-'));
    const c = capture();
    const ok = await fetchModels({ searchDirs: [dir] }, { targetDir: dir, names: ['hyperfas_224.onnx'], fetch: localFetch() }, c.io);
    assert.equal(ok, false);
    assert.match(c.err.join('\n'), /missing\s+hyperfas_224\.onnx: no upstream URL serves this file\. It was converted from zeusees\/HyperFAS@/);
    assert.match(c.err.join('\n'), new RegExp(`Copy it into ${dir}`));
  });

  it('downloads a missing file, verifies it, and skips present ones', async () => {
    const dir = mkdtempSync(path.join(tmp, 'fetch-'));
    const c = capture();
    const names = ['face_detection_yunet_2026may.onnx'];
    assert.equal(await fetchModels({ searchDirs: [dir] }, { targetDir: dir, names, fetch: localFetch() }, c.io), true);
    assert.ok(existsSync(path.join(dir, names[0])));
    assert.deepEqual(checkModels({ searchDirs: [dir] }, names).map((s) => s.ok), [true]);
    const again = capture();
    assert.equal(await fetchModels({ searchDirs: [dir] }, { targetDir: dir, names, fetch: localFetch() }, again.io), true);
    assert.match(again.out[0], /^present/);
  });

  it('refuses a download whose sha256 differs, leaving nothing behind', async () => {
    const dir = mkdtempSync(path.join(tmp, 'bad-'));
    const c = capture();
    const ok = await fetchModels({ searchDirs: [dir] }, { targetDir: dir, names: ['face_detection_yunet_2026may.onnx'], fetch: localFetch(true) }, c.io);
    assert.equal(ok, false);
    assert.match(c.err[0], /failed\s+face_detection_yunet_2026may\.onnx .*sha256/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('an unreachable upstream says so', async () => {
    const dir = mkdtempSync(path.join(tmp, 'offline-'));
    const c = capture();
    const offline = (async () => { throw new TypeError('fetch failed'); }) as typeof fetch;
    assert.equal(await fetchModels({ searchDirs: [dir] }, { targetDir: dir, names: ['face_detection_yunet_2026may.onnx'], fetch: offline }, c.io), false);
    assert.match(c.err[0], /fetch failed \(offline\?/);
  });
});
