// node-seal is pinned to 7.0.0 (SEAL 4.1): these tests fail if its plaintext format changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfv, plaintextOf } from '../../src/template/bfv.ts';
import { PLAIN_MODULUS } from '../../src/template/params.ts';
import { plaintextBytes, readCoefficients } from '../../src/template/plaintextCodec.ts';

test('our plaintext bytes load into SEAL as the intended polynomial', async () => {
  const b = await bfv();
  using plain = plaintextOf(b, [3, 0, 2, 0xffff]);
  // SEAL's own rendering: hex coefficients, highest degree first.
  assert.equal(plain.toString(), 'FFFFx^3 + 2x^2 + 3');
});

test('SEAL serializes a plaintext exactly as we do, and we read it back', async () => {
  const b = await bfv();
  const coefficients = [7, 0, PLAIN_MODULUS - 1, 1, 42];
  using plain = plaintextOf(b, coefficients);
  const saved = plain.saveToArray(b.seal.ComprModeType.none) as Uint8Array;
  assert.deepEqual(Buffer.from(saved), Buffer.from(plaintextBytes(coefficients)));
  assert.deepEqual([...readCoefficients(saved)], coefficients);
});

test('SEAL rejects coefficients outside [0, t) from our bytes', async () => {
  const b = await bfv();
  assert.throws(() => plaintextOf(b, [PLAIN_MODULUS]));
  using top = plaintextOf(b, [PLAIN_MODULUS - 1]);
});

test('reading a non-plaintext blob fails loudly', () => {
  assert.throws(() => readCoefficients(new Uint8Array(100)), { code: 'template.seal_format' });
});
