import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { loadManifest, modelSearchDirs, openModelSession, repoRoot, resolveModelPath, sha256OfFile } from '../../src/face/models.ts';

const shared = path.join(repoRoot, '..', 'shared', 'models');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'facegate-models-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('model manifest', () => {
  it('lists every model file of the shared folder with its sha256, and the defaults exist', () => {
    const m = loadManifest();
    for (const e of m.models) assert.equal(sha256OfFile(path.join(shared, e.name)), e.sha256, e.name);
    const names = new Set(m.models.map((e) => e.name));
    for (const n of [m.defaults.detector, m.defaults.recognizer, ...Object.values(m.liveness).flat()]) assert.ok(names.has(n), n);
    assert.ok(m.liveness[m.defaults.liveness]);
    for (const e of m.models) assert.ok(e.url !== null || e.convertedFrom, `${e.name} needs a URL or its conversion source`);
  });
});

describe('resolveModelPath', () => {
  it('searches FACE_MODELS_DIR, then models/, then ../shared/models', () => {
    assert.deepEqual(modelSearchDirs({ faceModelsDir: tmp }), [tmp, path.join(repoRoot, 'models'), shared]);
    assert.equal(resolveModelPath('face_detection_yunet_2026may.onnx', { faceModelsDir: tmp }), path.join(shared, 'face_detection_yunet_2026may.onnx'));
  });

  it('a missing file is a ConfigError naming the file and where it looked', () => {
    const empty = mkdtempSync(path.join(tmp, 'empty-'));
    assert.throws(
      () => resolveModelPath('mobilefacenet_foamliu_128d.onnx', { searchDirs: [empty] }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('mobilefacenet_foamliu_128d.onnx') && e.message.includes(empty) && /not found/.test(e.message),
    );
  });

  it('an altered file found first is a ConfigError naming the file, even when an intact copy comes later', () => {
    const dir = mkdtempSync(path.join(tmp, 'altered-'));
    const file = path.join(dir, 'face_detection_yunet_2026may.onnx');
    copyFileSync(path.join(shared, 'face_detection_yunet_2026may.onnx'), file);
    const bytes = readFileSync(file);
    bytes[1000] ^= 0xff;
    writeFileSync(file, bytes);
    assert.throws(
      () => resolveModelPath('face_detection_yunet_2026may.onnx', { faceModelsDir: dir }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(file) && /altered/.test(e.message),
    );
  });

  it('an unknown model name is a ConfigError', () => {
    assert.throws(() => resolveModelPath('nope.onnx', { faceModelsDir: tmp }), ConfigError);
  });
});

describe('openModelSession', () => {
  it('returns one cached session per model', async () => {
    const a = await openModelSession('face_detection_yunet_2026may.onnx', { faceModelsDir: tmp });
    const b = await openModelSession('face_detection_yunet_2026may.onnx', { faceModelsDir: tmp });
    assert.equal(a, b);
    assert.deepEqual(a.inputNames, ['input']);
  });
});
