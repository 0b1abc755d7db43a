// node-seal is pinned to 7.0.0 (SEAL 4.1): these tests fail if its ciphertext layout changes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadCiphertext, plaintextOf, serialize } from '../../src/template/bfv.ts';
import { addPlainCoefficient, addToFirstPolynomial } from '../../src/template/ciphertextEdit.ts';
import { uniformResidues } from '../../src/template/modular.ts';
import { PLAIN_MODULUS, POLY_DEGREE } from '../../src/template/params.ts';
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

test('adding one plaintext coefficient to the bytes is byte for byte SEAL addPlain', () => {
  const message = uniformResidues(POLY_DEGREE);
  const ours = encrypt(message);
  const theirs = ours.slice();
  const m = PLAIN_MODULUS - 12345;
  addPlainCoefficient(ours, 511, m, b.rns.data);
  {
    using cipher = loadCiphertext(b, theirs);
    const sparse = new Uint32Array(512);
    sparse[511] = m;
    using plain = plaintextOf(b, sparse);
    b.evaluator.addPlainInplace(cipher, plain);
    theirs.set(serialize(b, cipher));
  }
  assert.deepEqual(Buffer.from(ours), Buffer.from(theirs));
  const decrypted = keys.decrypt(ours);
  assert.equal(decrypted[511], (message[511] + m) % PLAIN_MODULUS);
  assert.equal(decrypted[510], message[510]);
});

test('noise added to c₀ below Δ/2 decrypts away; the same at the result level (fewer primes)', () => {
  const message = uniformResidues(POLY_DEGREE);
  const bytes = encrypt(message);
  const before = keys.noiseBudget(bytes);
  addToFirstPolynomial(bytes, b.rns.data, (j) => (j % 2 === 0 ? 1n : -1n) << 110n);
  assert.deepEqual([...keys.decrypt(bytes)], [...message]);
  assert.ok(keys.noiseBudget(bytes) < before - 60, 'the noise really went in');
});

test('bytes that are not an uncompressed coefficient-form ciphertext of this level fail loudly', () => {
  assert.throws(() => addPlainCoefficient(new Uint8Array(200), 0, 1, b.rns.data), { code: 'template.seal_format' });
  const bytes = encrypt([1]);
  assert.throws(() => addPlainCoefficient(bytes, 0, 1, b.rns.result), { code: 'template.seal_format' }, 'wrong number of primes');
  using cipher = loadCiphertext(b, bytes);
  assert.throws(() => addPlainCoefficient(cipher.saveToArray(b.seal.ComprModeType.zstd) as Uint8Array, 0, 1, b.rns.data), { code: 'template.seal_format' });
  b.evaluator.cipherTransformToNttInplace(cipher);
  assert.throws(() => addToFirstPolynomial(serialize(b, cipher), b.rns.data, () => 0n), { code: 'template.seal_format' });
});
