import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSigningKeys, pruneRetiredKeys, rotateSigningKey } from '../../src/oidc/keys.ts';
import { freshDatabase } from '../support/services.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';

const dataKey = ephemeralDataKey();

test('signing keys: generated once and persisted, rotation keeps the old key for verification', async () => {
  const db = await freshDatabase();
  try {
    await db.asOwner((sql) => sql.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')"));
    const first = await loadSigningKeys(db, dataKey, 'acme');
    assert.equal(first.length, 1);
    assert.equal(first[0].alg, 'RS256');
    assert.ok(first[0].d, 'private part kept for signing');
    assert.deepEqual((await loadSigningKeys(db, dataKey, 'acme')).map((k) => k.kid), [first[0].kid], 'persisted, not regenerated');
    const globex = await loadSigningKeys(db, dataKey, 'globex');
    assert.notEqual(globex[0].kid, first[0].kid, 'each tenant has its own keys');

    const newKid = await rotateSigningKey(db, dataKey, 'acme');
    const after = await loadSigningKeys(db, dataKey, 'acme');
    assert.deepEqual(after.map((k) => k.kid), [newKid, first[0].kid], 'new key signs (first), old one still verifies');
    assert.equal(await pruneRetiredKeys(db, 'acme', 3600), 0, 'recently retired keys are kept');
    assert.equal(await pruneRetiredKeys(db, 'acme', 0), 1);
    assert.deepEqual((await loadSigningKeys(db, dataKey, 'acme')).map((k) => k.kid), [newKid]);
  } finally {
    await db.close();
  }
});
