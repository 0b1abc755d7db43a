import { test } from 'node:test';
import { createCipheriv, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { openKey, sealKey } from '../../src/custodian/sealedKey.ts';
import { newKek } from '../template/fixtures.ts';

const user = '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41';
const other = '5d2e7a10-3b4c-4f6e-8a9b-1c2d3e4f5a6b';

test('a sealed key opens only for its tenant, user and KEK', () => {
  const kek = newKek('k1');
  const secret = Buffer.from('secret key bytes');
  const sealed = sealKey(kek, 'acme', user, secret);
  assert.deepEqual(openKey(kek, 'acme', user, sealed), secret);
  assert.ok(!Buffer.from(sealed).includes(secret), 'not stored in the clear');
  assert.throws(() => openKey(kek, 'acme', other, sealed), { code: 'custodian.unseal_failed' });
  assert.throws(() => openKey(kek, 'globex', user, sealed), { code: 'custodian.unseal_failed' });
  assert.throws(() => openKey({ id: 'k2', key: kek.key }, 'acme', user, sealed), { code: 'custodian.unseal_failed' }, 'KEK id is bound');
  assert.throws(() => openKey(newKek('k1'), 'acme', user, sealed), { code: 'custodian.unseal_failed' });
  const tampered = Buffer.from(sealed);
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => openKey(kek, 'acme', user, tampered), { code: 'custodian.unseal_failed' });
});

test('sealing the same key twice gives different blobs (fresh IV)', () => {
  const kek = newKek('k1');
  assert.notDeepEqual(sealKey(kek, 'acme', user, Buffer.from('x')), sealKey(kek, 'acme', user, Buffer.from('x')));
});

test('a blob with a truncated (4-byte) tag is refused, even one valid for that tag length', () => {
  const kek = newKek('k1');
  // A forger's best case: an empty secret under a genuine 4-byte tag (2^32 tries would find one).
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv, { authTagLength: 4 });
  cipher.setAAD(Buffer.from(`facegate-custodian-key:v1\nacme\n${user}\nk1`));
  cipher.final();
  const forged = Buffer.concat([iv, cipher.getAuthTag()]);
  assert.throws(() => openKey(kek, 'acme', user, forged), { code: 'custodian.unseal_failed' });
  const sealed = Buffer.from(sealKey(kek, 'acme', user, Buffer.from('secret key bytes')));
  assert.throws(() => openKey(kek, 'acme', user, sealed.subarray(0, 28)), { code: 'custodian.unseal_failed' }, 'IV and tag with no body');
  assert.throws(() => openKey(kek, 'acme', user, Buffer.concat([sealed.subarray(0, 16), sealed.subarray(28)])), { code: 'custodian.unseal_failed' }, 'tag cut to 4 bytes');
});
