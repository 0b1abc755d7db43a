import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { CUSTODIAN_METHODS } from '../../src/custodian/custodian.ts';
import { checkCustodianPlacement, openCustodian } from '../../src/custodian/openCustodian.ts';
import { ConfigError } from '../../src/errors.ts';
import { openFaceServices } from '../../src/faceLogin/faceServices.ts';
import { memoryStore } from '../../src/store/kv.ts';
import { openDatabase } from '../../src/store/db.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import { TEST_RP } from '../support/liveAttempt.ts';
import { makeDevCerts } from '../../src/custodian/devCerts.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'facegate-custodian-'));
const db = openDatabase({ dataKey: ephemeralDataKey() });
const kv = memoryStore();
const certs = await makeDevCerts(path.join(dir, 'certs'), ['custodian.internal']);
after(async () => {
  await db.close();
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
});

test('embedded default: an in-process custodian with the generated local KEK wrapping its key store in DATA_DIR', () => {
  const custodian = openCustodian(loadConfig({ DATA_DIR: dir }), { db, kv, rp: TEST_RP });
  assert.deepEqual(Object.keys(custodian).sort(), [...CUSTODIAN_METHODS].sort());
  assert.equal(statSync(path.join(dir, 'custodian-keys', 'kek-epochs')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(dir, 'custodian-keys')).mode & 0o777, 0o700);
});

test('CUSTODIAN_URL selects the remote client, which holds only the narrow interface', () => {
  const config = loadConfig({ DATA_DIR: dir, CUSTODIAN_URL: 'http://127.0.0.1:3100', CUSTODIAN_TOKEN: 'x'.repeat(32) });
  const custodian = openCustodian(config, { db, kv, rp: TEST_RP });
  assert.deepEqual(Object.keys(custodian).sort(), [...CUSTODIAN_METHODS].sort());
});

test('production refuses to start face sign-in with the in-process custodian (typed config error); a separate one is accepted', () => {
  const production = {
    NODE_ENV: 'production',
    DATA_DIR: dir,
    PUBLIC_URL: 'https://id.example.com',
    COOKIE_KEYS: 'c'.repeat(32),
    FACEGATE_DATA_KEY: `d1:${Buffer.alloc(32, 1).toString('base64')}`,
  };
  const inProcess = loadConfig({ ...production, FACEGATE_KEK: `k1:${Buffer.alloc(32, 2).toString('base64')}` });
  assert.throws(() => checkCustodianPlacement(inProcess), (e) => e instanceof ConfigError && /CUSTODIAN_URL/.test(e.message));
  assert.throws(() => openFaceServices(inProcess, { db, kv }), ConfigError, 'at startup, not at the first face');
  assert.throws(() => openCustodian(inProcess, { db, kv, rp: TEST_RP }), ConfigError);
  const separate = loadConfig({
    ...production,
    CUSTODIAN_URL: 'https://custodian.internal:3100',
    CUSTODIAN_CLIENT_CERT: certs.clientCert,
    CUSTODIAN_CLIENT_KEY: certs.clientKey,
    CUSTODIAN_TLS_CA: certs.ca,
    CUSTODIAN_TOKEN: 't'.repeat(32),
  });
  assert.ok(openFaceServices(separate, { db, kv }));
  // Without face sign-in (PUBLIC_URL cannot carry passkeys) no custodian is needed at all.
  assert.equal(openFaceServices({ ...inProcess, publicUrl: 'http://10.0.0.1:3000' }, { db, kv }), undefined);
});
