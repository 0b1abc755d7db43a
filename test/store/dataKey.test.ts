import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { createDataKey, parseRootKeys, resolveDataKey, SEALED_LIKE } from '../../src/store/dataKey.ts';

const root = (id: string) => ({ id, key: randomBytes(32) });

describe('data key', () => {
  it('seals and opens a value bound to its context; another context or key does not open it', () => {
    const k = createDataKey([root('a')]);
    const sealed = k.seal('JBSWY3DPEHPK3PXP', 'totp:acme:u1');
    assert.ok(sealed.startsWith(SEALED_LIKE.slice(0, -1)), 'sealed values match the pattern upgrades select by');
    assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
    assert.equal(k.open(sealed, 'totp:acme:u1').toString(), 'JBSWY3DPEHPK3PXP');
    assert.throws(() => k.open(sealed, 'totp:acme:u2'), { code: 'data_key.unseal_failed' });
    assert.throws(() => createDataKey([root('a')]).open(sealed, 'totp:acme:u1'), { code: 'data_key.unseal_failed' });
  });

  it('keeps the sealed format: opens a value sealed by an earlier version, and its seals open with the plain AES-256-GCM recipe', () => {
    const k = createDataKey([{ id: 'fixed', key: Buffer.alloc(32, 7) }]);
    const plaintext = '{"accountId":"u1","kind":"AuthorizationCode"}';
    const context = 'oidc:default:AuthorizationCode:abc';
    // Sealed by the version that keyed AES-GCM with the raw subkey bytes instead of a KeyObject.
    const earlier = 'dk1:fixed:4ISVuEYpDsxXSy7BpoYK8osfpb9vRdJHvIFUuSZqhqnQ0aEYLdjst5DDn1CiVn9Shuv437R_QUriewGRWUGhtpN9XEg5YAYIkQ';
    assert.equal(k.open(earlier, context).toString(), plaintext);
    const bytes = Buffer.from(k.seal(plaintext, context).split(':')[2], 'base64url');
    const key = Buffer.from(hkdfSync('sha256', Buffer.alloc(32, 7), Buffer.alloc(0), 'facegate-data-key:seal', 32));
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(`fixed\n${context}`));
    decipher.setAuthTag(bytes.subarray(12, 28));
    assert.equal(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString(), plaintext);
  });

  it('refuses a truncated tag or a tampered body', () => {
    const k = createDataKey([root('a')]);
    const sealed = k.seal('secret', 'c');
    const [p, id, b64] = sealed.split(':');
    const bytes = Buffer.from(b64, 'base64url');
    assert.throws(() => k.open(`${p}:${id}:${bytes.subarray(0, 12 + 4).toString('base64url')}`, 'c'), { code: 'data_key.unseal_failed' });
    bytes[bytes.length - 1] ^= 1;
    assert.throws(() => k.open(`${p}:${id}:${bytes.toString('base64url')}`, 'c'), { code: 'data_key.unseal_failed' });
    assert.throws(() => k.open('plain text', 'c'), { code: 'data_key.unseal_failed' });
  });

  it('opens values sealed under an older key after rotation; seals with the new one', () => {
    const old = root('old');
    const before = createDataKey([old]).seal('v', 'c');
    const rotated = createDataKey([root('new'), old]);
    assert.equal(rotated.open(before, 'c').toString(), 'v');
    assert.match(rotated.seal('v', 'c'), /^dk1:new:/);
  });

  it('MACs are keyed per purpose and per key', () => {
    const r = root('a');
    const k = createDataKey([r]);
    assert.equal(k.mac('token', 'x'), createDataKey([r]).mac('token', 'x'));
    assert.notEqual(k.mac('token', 'x'), k.mac('lockout', 'x'));
    assert.notEqual(k.mac('token', 'x'), createDataKey([root('a')]).mac('token', 'x'));
  });

  it('parses FACEGATE_DATA_KEY and refuses malformed entries', () => {
    const b64 = randomBytes(32).toString('base64');
    assert.deepEqual(parseRootKeys(`k1:${b64}`).map((r) => r.id), ['k1']);
    assert.throws(() => parseRootKeys('k1:c2hvcnQ='), /32 bytes/);
    assert.throws(() => parseRootKeys('nocolon'), /id:base64key/);
  });

  it('the embedded default generates one key in DATA_DIR, private, and reuses it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fg-dk-'));
    const a = resolveDataKey({ dataKeys: [], dataDir: dir });
    const b = resolveDataKey({ dataKeys: [], dataDir: dir });
    assert.equal(a.mac('p', 'x'), b.mac('p', 'x'));
    assert.equal(statSync(path.join(dir, 'data-key')).mode & 0o077, 0);
  });
});
