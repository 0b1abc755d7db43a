import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KEK_FILE, resolveKeks } from '../../src/custodian/kek.ts';
import { newKek } from '../template/fixtures.ts';

test('configured KEKs are used as given, first is current', () => {
  const keks = [newKek('new'), newKek('old')];
  assert.deepEqual(resolveKeks({ kek: keks, dataDir: '/nonexistent' }), keks);
});

test('without FACEGATE_KEK a local KEK is generated once, owner-readable only, and reused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-kek-'));
  try {
    const [first] = resolveKeks({ kek: [], dataDir: dir });
    assert.equal(first.key.length, 32);
    const file = path.join(dir, KEK_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, 'utf8').startsWith(`${first.id}:`));
    assert.deepEqual(resolveKeks({ kek: [], dataDir: dir }), [first], 'same KEK after a restart');
    chmodSync(file, 0o644);
    assert.throws(() => resolveKeks({ kek: [], dataDir: dir }), /chmod 600/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
