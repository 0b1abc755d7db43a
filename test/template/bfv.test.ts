import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfv, withBfv } from '../../src/template/bfv.ts';
import { PLAIN_MODULUS } from '../../src/template/params.ts';

function isPrime(n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
}

test('BFV context: N = 8192, prime t ≈ 2^30, 128-bit security, four data primes (174 bits), two in results', async () => {
  const b = await bfv();
  assert.ok(b.context.parametersSet());
  using data = b.context.firstContextData();
  using parms = data.parms();
  assert.equal(parms.polyModulusDegree(), 8192);
  using t = parms.plainModulus();
  assert.equal(t.value(), BigInt(PLAIN_MODULUS));
  assert.ok(isPrime(PLAIN_MODULUS) && PLAIN_MODULUS > 2 ** 29.99 && PLAIN_MODULUS < 2 ** 30);
  using q = parms.coeffModulus();
  assert.equal(q.size(), 4);
  assert.equal(data.totalCoeffModulusBitCount(), 174);
  assert.equal(b.rns.result.moduli.length, 2);
  assert.deepEqual(b.rns.result.moduli, b.rns.data.moduli.slice(0, 2), 'modulus switching drops the last primes');
  using qualifiers = data.qualifiers();
  assert.equal(qualifiers.securityLevel.value, 128);
});

test('a fatal WASM error drops the SEAL instance; ordinary errors keep it', async () => {
  const first = await bfv();
  await assert.rejects(withBfv(() => { throw new Error('ordinary'); }));
  assert.equal(await bfv(), first);
  await assert.rejects(withBfv(() => { throw new WebAssembly.RuntimeError('memory access out of bounds'); }), WebAssembly.RuntimeError);
  const second = await bfv();
  assert.notEqual(second, first, 'a fresh runtime after the trap');
  assert.equal(await withBfv((b) => b), second);
});
