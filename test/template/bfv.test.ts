import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bfv, withBfv } from '../../src/template/bfv.ts';

test('BFV context: N = 4096, t = 65537, 128-bit security, two data primes', async () => {
  const b = await bfv();
  assert.ok(b.context.parametersSet());
  using data = b.context.firstContextData();
  using parms = data.parms();
  assert.equal(parms.polyModulusDegree(), 4096);
  using t = parms.plainModulus();
  assert.equal(t.value(), 65537n);
  using q = parms.coeffModulus();
  assert.equal(q.size(), 2);
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
