// node-seal is pinned to 7.0.0 (SEAL 4.1): these tests fail if its ciphertext layout changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadCiphertext, plaintextOf, serialize } from '../../src/template/bfv.ts';
import { addMaskToCiphertext } from '../../src/template/ciphertextMask.ts';
import { uniformResidues } from '../../src/template/modular.ts';
import { PLAIN_MODULUS } from '../../src/template/params.ts';
import { testKeys } from './vectors.ts';

const keys = await testKeys();
after(() => keys.close());
const { b } = keys;

function encrypt(coefficients: ArrayLike<number>): Uint8Array {
  using pk = new b.seal.PublicKey();
  pk.loadFromArray(b.context, keys.publicKey);
  using encryptor = new b.seal.Encryptor(b.context, pk);
  using plain = plaintextOf(b, coefficients);
  using cipher = new b.seal.Ciphertext();
  encryptor.encrypt(plain, cipher);
  return serialize(b, cipher);
}

test('adding the mask to the bytes decrypts like SEAL addPlain: m + M mod t', () => {
  const message = uniformResidues(4096);
  const mask = uniformResidues(4096);
  const ours = encrypt(message);
  const theirs = ours.slice();
  addMaskToCiphertext(ours, mask, b.rns);
  {
    using cipher = loadCiphertext(b, theirs);
    using plain = plaintextOf(b, mask);
    b.evaluator.addPlainInplace(cipher, plain);
    theirs.set(serialize(b, cipher));
  }
  assert.deepEqual(Buffer.from(ours), Buffer.from(theirs), 'byte for byte what addPlain produces');
  assert.deepEqual([...keys.decrypt(ours)], Array.from(message, (m, i) => (m + mask[i]) % PLAIN_MODULUS));
});

test('a size-3 (ct×ct) ciphertext is masked on its first polynomial too', () => {
  const a = encrypt([0, 3]);
  const c = encrypt([0, 5]);
  using x = loadCiphertext(b, a);
  using y = loadCiphertext(b, c);
  using product = new b.seal.Ciphertext();
  b.evaluator.multiply(x, y, product);
  const bytes = serialize(b, product);
  const mask = new Uint32Array(4096);
  mask[0] = 7;
  addMaskToCiphertext(bytes, mask, b.rns);
  const d = keys.decrypt(bytes);
  assert.equal(d[0], 7);
  assert.equal(d[2], 15);
});

test('bytes that are not an uncompressed coefficient-form ciphertext fail loudly', () => {
  const mask = new Uint32Array(4096);
  assert.throws(() => addMaskToCiphertext(new Uint8Array(200), mask, b.rns), { code: 'template.seal_format' });
  using cipher = loadCiphertext(b, encrypt([1]));
  assert.throws(() => addMaskToCiphertext(cipher.saveToArray(b.seal.ComprModeType.zstd) as Uint8Array, mask, b.rns), { code: 'template.seal_format' });
  b.evaluator.cipherTransformToNttInplace(cipher);
  assert.throws(() => addMaskToCiphertext(serialize(b, cipher), mask, b.rns), { code: 'template.seal_format' });
});
