import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KEK_FILE, KEY_DIR, openKekRing, wrappingKeks } from '../../src/custodian/kek.ts';
import { EPOCH_FILE, openKekStore } from '../../src/custodian/kekStore.ts';
import { newKek } from '../template/fixtures.ts';

test('configured KEKs wrap the key store as given, first seals', () => {
  const keks = [newKek('new'), newKek('old')];
  assert.deepEqual(wrappingKeks({ kek: keks, dataDir: '/nonexistent' }), keks);
});

test('without FACEGATE_KEK a local KEK is generated once, owner-readable only, and reused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-kek-'));
  try {
    const [first] = wrappingKeks({ kek: [], dataDir: dir });
    assert.equal(first.key.length, 32);
    const file = path.join(dir, KEK_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(readFileSync(file, 'utf8').startsWith(`${first.id}:`));
    assert.deepEqual(wrappingKeks({ kek: [], dataDir: dir }), [first], 'same KEK after a restart');
    chmodSync(file, 0o644);
    assert.throws(() => wrappingKeks({ kek: [], dataDir: dir }), /chmod 600/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the epoch store survives restarts, opens under any listed FACEGATE_KEK, and refuses an unlisted one or loose modes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-kek-'));
  try {
    const a = newKek('a');
    const b = newKek('b');
    const config = { kek: [a], dataDir: dir, custodianKeyDir: undefined };
    const current = openKekRing(config).current();
    assert.match(current.id, /^epoch-\d{8}-[0-9a-f]{8}$/);
    assert.deepEqual(openKekRing(config).current(), current, 'same epoch after a restart');
    assert.deepEqual(openKekRing({ ...config, kek: [b, a] }).current(), current, 'the wrapping KEK can be changed: the old one still opens');
    assert.throws(() => openKekRing({ ...config, kek: [b] }), { code: 'custodian.kek_store_unreadable' });
    assert.equal(openKekRing(config).find(a.id), a, 'keys sealed before epochs still open');
    chmodSync(path.join(dir, KEY_DIR), 0o755);
    assert.throws(() => openKekRing(config), /chmod 700/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write that crashed before its rename leaves the store whole; its stale temporary file is cleaned, a tampered store refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-kek-'));
  try {
    const w = newKek('w');
    const store = openKekStore(dir, [w]);
    const before = store.read();
    const stale = path.join(dir, `.${EPOCH_FILE}.1.deadbeef`);
    const fresh = path.join(dir, `.${EPOCH_FILE}.2.cafebabe`);
    writeFileSync(stale, 'half a write', { mode: 0o600 });
    writeFileSync(fresh, 'a write in progress', { mode: 0o600 });
    utimesSync(stale, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const reopened = openKekStore(dir, [w]);
    assert.deepEqual(reopened.read(), before);
    assert.ok(!existsSync(stale), 'a crashed write is cleaned');
    assert.ok(existsSync(fresh), 'another process’s write in progress is left alone');
    const file = path.join(dir, EPOCH_FILE);
    const outer = JSON.parse(readFileSync(file, 'utf8')) as { ct: string };
    const ct = Buffer.from(outer.ct, 'base64');
    ct[0] ^= 1;
    writeFileSync(file, JSON.stringify({ ...outer, ct: ct.toString('base64') }));
    assert.throws(() => reopened.read(), { code: 'custodian.kek_store_unreadable' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
