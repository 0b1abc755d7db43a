/**
 * The review's attacks on match results, run against the old path (no re-randomization: what
 * the custodian could do before) and the new one (issue 11). They need the results' bytes only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadCiphertext, plaintextOf, serialize } from '../../src/template/bfv.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { probeCoefficients } from '../../src/template/encoding.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { POLY_DEGREE, PLAIN_MODULUS } from '../../src/template/params.ts';
import { quantize } from '../../src/template/quantize.ts';
import { randomUnit, testKeys } from './vectors.ts';

const keys = await testKeys();
after(() => keys.close());
const { b } = keys;
const DIM = 8;
const DATA_OFFSET = 16 + 32 + 1 + 8 + 8 + 8 + 8 + 8 + 16 + 8;

/** Coefficients of c₁ mod the first prime (the same prime at every level) of a serialized result. */
function c1FirstPrime(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = Number(view.getBigUint64(65, true));
  return Array.from({ length: POLY_DEGREE }, (_, j) => view.getBigUint64(DATA_OFFSET + 8 * (k * POLY_DEGREE + j), true));
}

/** The old path: template × (a·probe), no blinder, no flooding (c₁ = template c₁ · a·p). */
function rawProduct(template: Uint8Array, probe: Int8Array, a: number): Uint8Array {
  const coefficients = probeCoefficients(probe, a);
  using cipher = loadCiphertext(b, template);
  using plain = plaintextOf(b, coefficients);
  using product = new b.seal.Ciphertext();
  b.evaluator.plainTransformToNttInplace(plain, b.dataParmsId);
  b.evaluator.multiplyPlain(cipher, plain, product);
  b.evaluator.cipherTransformFromNttInplace(product);
  return serialize(b, product);
}

const mod = (x: bigint, q: bigint) => ((x % q) + q) % q;

function inverseMod(x: bigint, q: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(x, q), q, 1n, 0n];
  while (r1 !== 0n) {
    const f = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - f * r1, s1, s0 - f * s1];
  }
  return mod(s0, q);
}

/** Kernel basis of an m×n matrix mod prime q (Gaussian elimination). */
function kernel(rows: bigint[][], q: bigint): bigint[][] {
  const m = rows.map((r) => r.map((x) => mod(x, q)));
  const n = m[0].length;
  const pivots: number[] = [];
  let r = 0;
  for (let c = 0; c < n && r < m.length; c++) {
    const p = m.findIndex((row, i) => i >= r && row[c] !== 0n);
    if (p < 0) continue;
    [m[r], m[p]] = [m[p], m[r]];
    const inv = inverseMod(m[r][c], q);
    m[r] = m[r].map((x) => mod(x * inv, q));
    for (let i = 0; i < m.length; i++) if (i !== r && m[i][c] !== 0n) m[i] = m[i].map((x, j) => mod(x - m[i][c] * m[r][j], q));
    pivots.push(c);
    r++;
  }
  const free = Array.from({ length: n }, (_, c) => c).filter((c) => !pivots.includes(c));
  return free.map((f) => {
    const v = new Array<bigint>(n).fill(0n);
    v[f] = 1n;
    pivots.forEach((c, i) => (v[c] = mod(-m[i][f], q)));
    return v;
  });
}

/**
 * The review's linear system: two results of one template have c₁ = C·P₁ and C·P₂ (C the
 * template's c₁), so c₁(R₁)·P₂ − c₁(R₂)·P₁ = 0 in Z_q₀[x]/(x^N + 1): N equations, linear in the
 * 2·DIM unknown probe coefficients. The first 3·DIM equations are more than enough.
 */
function solveForProbes(r1: Uint8Array, r2: Uint8Array): bigint[][] {
  const q0 = b.rns.data.moduli[0];
  const [a1, a2] = [c1FirstPrime(r1), c1FirstPrime(r2)];
  const at = (c: bigint[], k: number) => (k >= 0 ? c[k] : -c[k + POLY_DEGREE]);
  const rows: bigint[][] = [];
  for (let j = 0; j < 3 * DIM; j++) {
    // Unknowns: P₁[0..DIM), then P₂[0..DIM).
    rows.push([...Array.from({ length: DIM }, (_, i) => -at(a2, j - i)), ...Array.from({ length: DIM }, (_, i) => at(a1, j - i))]);
  }
  return kernel(rows, q0);
}

function centredProbe(p: Int8Array, a: number, q: bigint): bigint[] {
  return Array.from(probeCoefficients(p, a), (x) => mod(BigInt(x > (PLAIN_MODULUS - 1) / 2 ? x - PLAIN_MODULUS : x), q));
}

test('linear-system attack: it recovers both probes from two old results, and finds no solution at all on re-randomized ones', async () => {
  const q0 = b.rns.data.moduli[0];
  const template = await encryptTemplate(keys.publicKey, [quantize(randomUnit(DIM))]);
  const [p1, p2] = [quantize(randomUnit(DIM)), quantize(randomUnit(DIM))];

  // Old path: the kernel is one line, spanned by the true (a₁·p₁, a₂·p₂) — the probes up to one factor.
  const [a1, a2] = [1234, 4321];
  const old = solveForProbes(rawProduct(template, p1, a1), rawProduct(template, p2, a2));
  assert.equal(old.length, 1, 'the old system has a one-dimensional solution space');
  const truth = [...centredProbe(p1, a1, q0), ...centredProbe(p2, a2, q0)];
  const scale = mod(truth[0] * inverseMod(old[0][0], q0), q0);
  assert.deepEqual(old[0].map((x) => mod(x * scale, q0)), truth, 'and it is the probes: the attack works on the old path');

  // New path: fresh Enc_pk(M) + flooding in every result: only the zero vector solves the system.
  const r1 = await decisionMatch({ template, probe: p1, threshold: 0, blinder: await makeBlinder(keys.publicKey) });
  const r2 = await decisionMatch({ template, probe: p2, threshold: 0, blinder: await makeBlinder(keys.publicKey) });
  assert.deepEqual(solveForProbes(r1, r2), [], 'no non-zero solution, so none consistent with the probes');
});

/** The secret key as a ternary polynomial: SEAL keeps it in NTT form, so we invert that with SEAL itself. */
function ternarySecret(template: Uint8Array): Int8Array {
  const sk = keys.secretKey.saveToArray(b.seal.ComprModeType.none) as Uint8Array;
  // A Plaintext's data starts after header, parms_id, coeff_count, scale, inner header, count.
  const skData = new DataView(sk.buffer, sk.byteOffset + 88, 8 * 4 * POLY_DEGREE);
  // An NTT-form ciphertext at the data level (the template) with c₀ = c₁ := s (SEAL refuses c₁ = 0).
  const bytes = template.slice();
  const view = new DataView(bytes.buffer);
  for (let w = 0; w < 4 * POLY_DEGREE; w++) {
    view.setBigUint64(DATA_OFFSET + 8 * w, skData.getBigUint64(8 * w, true), true);
    view.setBigUint64(DATA_OFFSET + 8 * (4 * POLY_DEGREE + w), skData.getBigUint64(8 * w, true), true);
  }
  using cipher = loadCiphertext(b, bytes);
  b.evaluator.cipherTransformFromNttInplace(cipher);
  const plain = serialize(b, cipher);
  const pv = new DataView(plain.buffer, plain.byteOffset);
  const q0 = b.rns.data.moduli[0];
  return Int8Array.from({ length: POLY_DEGREE }, (_, j) => {
    const x = pv.getBigUint64(DATA_OFFSET + 8 * j, true);
    return x === 0n ? 0 : x === 1n ? 1 : x === q0 - 1n ? -1 : Number.NaN;
  });
}

/**
 * What the custodian computes besides the plaintext: w = c₀ + c₁·s − round(q·m/t) mod q, centred,
 * at coefficients `at` (s is ternary, so c₁·s is sums and differences).
 */
function decryptionNoise(bytes: Uint8Array, s: Int8Array, at: number[]): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = Number(view.getBigUint64(65, true));
  const rns = k === b.rns.data.moduli.length ? b.rns.data : b.rns.result;
  const m = keys.decrypt(bytes);
  const word = (poly: number, i: number, j: number) => Number(view.getBigUint64(DATA_OFFSET + 8 * ((poly * k + i) * POLY_DEGREE + j), true));
  return at.map((j) => {
    let x = 0n;
    let modulus = 1n;
    rns.moduli.forEach((qBig, i) => {
      const q = Number(qBig);
      let acc = word(0, i, j);
      for (let l = 0; l < POLY_DEGREE; l++) {
        if (s[l] === 0) continue;
        const idx = j - l;
        // Negacyclic: x^N = −1.
        const c = idx >= 0 ? word(1, i, idx) : q - word(1, i, idx + POLY_DEGREE);
        acc += s[l] === 1 ? c : q - c;
        if (acc >= q) acc -= q;
        if (acc >= q) acc -= q;
      }
      // CRT step: x ≡ previous mod `modulus`, ≡ acc mod qᵢ.
      const delta = mod(BigInt(acc) - x, qBig) * inverseMod(modulus, qBig) % qBig;
      x += modulus * delta;
      modulus *= qBig;
    });
    const T = BigInt(PLAIN_MODULUS);
    let w = mod(x - (rns.q * BigInt(m[j]) + (T + 1n) / 2n) / T, rns.q);
    if (w > rns.q / 2n) w -= rns.q;
    return Number(w);
  });
}

function correlation(x: number[], y: number[]): number {
  const mean = (v: number[]) => v.reduce((a, c) => a + c, 0) / v.length;
  const [mx, my] = [mean(x), mean(y)];
  let [sxy, sxx, syy] = [0, 0, 0];
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i] - my);
    sxx += (xi - mx) ** 2;
    syy += (y[i] - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

test('the noise the custodian can compute correlates with the probe on the old path, and not once blinded and flooded', async (t) => {
  const template = await encryptTemplate(keys.publicKey, [quantize(randomUnit(DIM))]);
  const s = ternarySecret(template);
  assert.ok(s.every((x) => x === -1 || x === 0 || x === 1), 'the secret key read back is ternary');
  const at = Array.from({ length: 256 }, (_, i) => 1000 + 27 * i);
  const trials = 3;
  const old: number[] = [];
  const flooded: number[] = [];
  const switched: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const p = quantize(randomUnit(DIM));
    // The probe-dependent part of the noise: template noise × p (a = 1), what an attacker would look for.
    const leak = decryptionNoise(rawProduct(template, p, 1), s, at);
    const a = 1 + trial * 997;
    old.push(correlation(decryptionNoise(rawProduct(template, p, a), s, at), leak));
    // The blinded product before modulus switching (what decisionMatch adds the blinder to)…
    const blinded = rawProduct(template, p, a);
    {
      using product = loadCiphertext(b, blinded);
      using blind = loadCiphertext(b, await makeBlinder(keys.publicKey));
      b.evaluator.addInplace(product, blind);
      flooded.push(correlation(decryptionNoise(serialize(b, product), s, at), leak));
    }
    // …and the result the custodian really gets.
    switched.push(correlation(decryptionNoise(await decisionMatch({ template, probe: p, threshold: 0, blinder: await makeBlinder(keys.publicKey) }), s, at), leak));
  }
  const bound = 4 / Math.sqrt(at.length);
  t.diagnostic(`correlation with the probe's noise: old ${old.map((c) => c.toFixed(3)).join(' ')}; flooded ${flooded.map((c) => c.toFixed(3)).join(' ')}; result ${switched.map((c) => c.toFixed(3)).join(' ')} (bound ${bound.toFixed(3)})`);
  for (const c of old) assert.ok(c > 0.99, `the old path leaks: correlation ${c}`);
  for (const c of [...flooded, ...switched]) assert.ok(Math.abs(c) < bound, `correlation ${c} ≥ ${bound} (4σ of independent noise)`);
});
