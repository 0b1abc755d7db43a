import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { CUSTODIAN_METHODS } from '../../src/custodian/custodian.ts';
import { openCustodian } from '../../src/custodian/openCustodian.ts';
import { memoryStore } from '../../src/store/kv.ts';
import { openDatabase } from '../../src/store/db.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import { TEST_RP } from '../support/liveAttempt.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'facegate-custodian-'));
const db = openDatabase({ dataKey: ephemeralDataKey() });
const kv = memoryStore();
after(async () => {
  await db.close();
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
});

test('embedded default: an in-process custodian with the generated local KEK', () => {
  const custodian = openCustodian(loadConfig({ DATA_DIR: dir }), { db, kv, rp: TEST_RP });
  assert.ok('rewrapAll' in custodian);
  assert.ok(CUSTODIAN_METHODS.every((m) => typeof custodian[m] === 'function'));
});

test('CUSTODIAN_URL selects the remote client, which holds only the narrow interface', () => {
  const config = loadConfig({ DATA_DIR: dir, CUSTODIAN_URL: 'http://127.0.0.1:3100', CUSTODIAN_TOKEN: 'x'.repeat(32) });
  const custodian = openCustodian(config, { db, kv, rp: TEST_RP });
  assert.deepEqual(Object.keys(custodian).sort(), [...CUSTODIAN_METHODS].sort());
});
