import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPACT_SECRET_BYTES, FORMAT_COMPACT, newCompactSecret, secretKeyOf } from '../../src/custodian/compactSecretKey.ts';
import { bfv, loadCiphertext, plaintextOf, serialize, type Bfv } from '../../src/template/bfv.ts';
import { PLAIN_MODULUS, POLY_DEGREE } from '../../src/template/params.ts';
import { readCoefficients } from '../../src/template/plaintextCodec.ts';

const b = await bfv();

/** Compact bytes of ternary coefficients (−1, 0, 1), in compactSecretKey.ts's layout. */
function pack(ternary: Int8Array): Uint8Array {
  const out = new Uint8Array(COMPACT_SECRET_BYTES);
  out[0] = FORMAT_COMPACT;
  ternary.forEach((x, i) => (out[1 + (i >> 2)] |= (x === -1 ? 2 : x) << (2 * (i & 3))));
  return out;
}

function unpack(compact: Uint8Array): Int8Array {
  return Int8Array.from({ length: POLY_DEGREE }, (_, i) => {
    const code = (compact[1 + (i >> 2)] >> (2 * (i & 3))) & 3;
    return code === 2 ? -1 : code;
  });
}

/**
 * The ternary coefficients of any SEAL secret key, read back through decryption: the ciphertext
 * (c₀, c₁) = (0, ⌊q/t⌋) decrypts to round(t/q · ⌊q/t⌋ · s) = s mod t, with no noise at all.
 */
function ternaryOf(b: Bfv, secretKey: InstanceType<Bfv['seal']['SecretKey']>, publicKey: InstanceType<Bfv['seal']['PublicKey']>): Int8Array {
  using encryptor = new b.seal.Encryptor(b.context, publicKey);
  using zero = plaintextOf(b, [0]);
  using fresh = new b.seal.Ciphertext();
  encryptor.encrypt(zero, fresh);
  const bytes = serialize(b, fresh);
  const { moduli, q } = b.rns.data;
  const delta = q / BigInt(PLAIN_MODULUS);
  // The data (2 polynomials × k primes × N coefficients of u64) ends the serialization.
  const data = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 16 * moduli.length * POLY_DEGREE, 16 * moduli.length * POLY_DEGREE);
  for (let w = 0; w < 2 * moduli.length * POLY_DEGREE; w++) data.setBigUint64(8 * w, 0n, true);
  moduli.forEach((qi, i) => data.setBigUint64(8 * (moduli.length + i) * POLY_DEGREE, delta % qi, true));
  using crafted = loadCiphertext(b, bytes);
  using decryptor = new b.seal.Decryptor(b.context, secretKey);
  using plain = new b.seal.Plaintext();
  decryptor.decrypt(crafted, plain);
  const coefficients = readCoefficients(plain.saveToArray(b.seal.ComprModeType.none) as Uint8Array);
  return Int8Array.from({ length: POLY_DEGREE }, (_, i) => {
    const c = i < coefficients.length ? coefficients[i] : 0;
    assert.ok(c === 0 || c === 1 || c === PLAIN_MODULUS - 1, `coefficient ${i} of a SEAL secret is ternary`);
    return c === PLAIN_MODULUS - 1 ? -1 : c;
  });
}

test('a key rebuilt from the compact form is byte for byte the SecretKey SEAL generated for the same secret', () => {
  using keygen = new b.seal.KeyGenerator(b.context);
  using original = keygen.secretKey();
  using publicKey = keygen.createPublicKey();
  const ternary = ternaryOf(b, original, publicKey);
  assert.ok(ternary.some((x) => x === -1) && ternary.some((x) => x === 1), 'a real ternary secret');
  using rebuilt = secretKeyOf(b, pack(ternary));
  const ours = Buffer.from(rebuilt.saveToArray(b.seal.ComprModeType.none) as Uint8Array);
  const seals = Buffer.from(original.saveToArray(b.seal.ComprModeType.none) as Uint8Array);
  assert.equal(ours.length, seals.length);
  assert.ok(ours.equals(seals), 'same parms_id (key level), same NTT coefficients over every prime');
});

test('a fresh compact secret is uniform ternary, 2 bits a coefficient, and its rebuilt key decrypts what its public key encrypted', () => {
  const compact = newCompactSecret();
  assert.equal(compact.length, COMPACT_SECRET_BYTES);
  assert.equal(COMPACT_SECRET_BYTES, 2049);
  const ternary = unpack(compact);
  for (let i = 0; i < POLY_DEGREE; i++) assert.notEqual((compact[1 + (i >> 2)] >> (2 * (i & 3))) & 3, 3, 'code 3 never occurs');
  // Each value ~N/3 = 2731 times (σ ≈ 43): 6σ bounds.
  for (const v of [-1, 0, 1]) {
    const n = ternary.filter((x) => x === v).length;
    assert.ok(Math.abs(n - POLY_DEGREE / 3) < 6 * Math.sqrt((POLY_DEGREE * 2) / 9), `${v} appears ${n} times`);
  }
  assert.notDeepEqual(newCompactSecret(), compact, 'fresh randomness each time');

  let publicBytes: Uint8Array;
  {
    using secretKey = secretKeyOf(b, compact);
    using keygen = new b.seal.KeyGenerator(b.context, secretKey);
    using publicKey = keygen.createPublicKey();
    publicBytes = serialize(b, publicKey);
    assert.deepEqual(ternaryOf(b, secretKey, publicKey), ternary, 'SEAL holds exactly the secret we drew');
  }
  // A later decision rebuilds the key on its own, from the compact bytes only.
  using publicKey = new b.seal.PublicKey();
  publicKey.loadFromArray(b.context, publicBytes);
  using encryptor = new b.seal.Encryptor(b.context, publicKey);
  const message = [5, 7, PLAIN_MODULUS - 3, 123456789];
  using plain = plaintextOf(b, message);
  using cipher = new b.seal.Ciphertext();
  encryptor.encrypt(plain, cipher);
  using secretKey = secretKeyOf(b, compact);
  using decryptor = new b.seal.Decryptor(b.context, secretKey);
  using out = new b.seal.Plaintext();
  decryptor.decrypt(cipher, out);
  assert.deepEqual([...readCoefficients(out.saveToArray(b.seal.ComprModeType.none) as Uint8Array)], message);
});

test('a key sealed in SEAL’s own form (rows from before the compact form) still loads', () => {
  using keygen = new b.seal.KeyGenerator(b.context);
  using original = keygen.secretKey();
  const legacy = serialize(b, original, true);
  using loaded = secretKeyOf(b, legacy);
  assert.ok(Buffer.from(loaded.saveToArray(b.seal.ComprModeType.none) as Uint8Array).equals(Buffer.from(original.saveToArray(b.seal.ComprModeType.none) as Uint8Array)));
});

test('unsealed bytes in no known form are a server error, never a key', () => {
  const compact = newCompactSecret();
  const badCode = compact.slice();
  badCode[100] |= 3;
  for (const bytes of [badCode, compact.subarray(0, 2000), Uint8Array.of(0x02, ...compact.subarray(1)), new Uint8Array(0)]) {
    assert.throws(() => secretKeyOf(b, bytes), { code: 'custodian.bad_secret_form', status: 500 });
  }
});
