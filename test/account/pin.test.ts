import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setPin, validatePin, verifyPin } from '../../src/account/pin.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { createUser } from '../../src/account/users.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import { freshDatabase, freshKeyValueStore, type TestDatabase } from '../support/services.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';

describe('validatePin', () => {
  it('accepts 6–12 digits', () => {
    assert.equal(validatePin('482913'), '482913');
    assert.equal(validatePin('482913582017'), '482913582017');
  });
  it('rejects other lengths and non-digits', () => {
    for (const pin of ['48291', '4829135820171', '48291a', ' 482913', '४८२९१३']) assert.throws(() => validatePin(pin), { code: 'pin.invalid_format' });
  });
  it('rejects repeated digits and straight runs', () => {
    for (const pin of ['000000', '111111111', '123456', '654321', '890123', '3210987']) assert.throws(() => validatePin(pin), { code: 'pin.too_weak' });
  });
});

describe('setPin / verifyPin', () => {
  let db: TestDatabase;
  let kv: KeyValueStore;
  const dataKey = ephemeralDataKey();
  let userId: string;
  before(async () => {
    db = await freshDatabase();
    kv = freshKeyValueStore();
    await createTenant(db, { id: 'acme', name: 'Acme' }, 'test');
    userId = (await createUser(db, 'acme', { username: 'alice' }, 'test')).id;
  });
  after(async () => {
    await kv.close();
    await db.close();
  });

  it('stores an Argon2id hash, never the PIN', async () => {
    await setPin(db, 'acme', userId, '482913', 'test');
    const { rows } = await db.withTenant('acme', (sql) => sql.query<{ hash: string }>('SELECT hash FROM pin_credentials'));
    assert.match(rows[0].hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!rows[0].hash.includes('482913'));
  });

  it('verifies the PIN and replaces it', async () => {
    const deps = { db, kv, dataKey };
    assert.equal(await verifyPin(deps, 'acme', userId, '482913'), true);
    assert.equal(await verifyPin(deps, 'acme', userId, '482914'), false);
    await setPin(db, 'acme', userId, '570126', 'test');
    assert.equal(await verifyPin(deps, 'acme', userId, '482913'), false);
    assert.equal(await verifyPin(deps, 'acme', userId, '570126'), true);
  });

  it('refuses weak PINs and unknown users without writing', async () => {
    await assert.rejects(setPin(db, 'acme', userId, '123456', 'test'), { code: 'pin.too_weak' });
    await assert.rejects(setPin(db, 'acme', '00000000-0000-4000-8000-000000000000', '570126', 'test'), { code: 'user.not_found' });
    assert.equal(await verifyPin({ db, kv, dataKey }, 'acme', userId, '570126'), true);
  });
});
