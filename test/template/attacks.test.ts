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
