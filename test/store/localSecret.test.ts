import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readOrCreateLocalSecret } from '../../src/store/localSecret.ts';

test('a local secret is generated once, kept owner-only, and read back after a restart', () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'fg-secret-')), 'data');
  let calls = 0;
  const make = () => `secret-${++calls}`;
  assert.equal(readOrCreateLocalSecret(dir, 'cookie-key', make), 'secret-1');
  assert.equal(statSync(path.join(dir, 'cookie-key')).mode & 0o777, 0o600);
  assert.equal(readOrCreateLocalSecret(dir, 'cookie-key', make), 'secret-1', 'not regenerated');
  assert.equal(calls, 1);
  chmodSync(path.join(dir, 'cookie-key'), 0o644);
  assert.throws(() => readOrCreateLocalSecret(dir, 'cookie-key', make), /chmod 600/);
});
