/**
 * The metrics at the scale of a web-photo benchmark (29.6 M impostor pairs): two Gaussians with
 * known AUC, EER and FNMR at each FMR, as typed arrays of scores (no images).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verificationMetrics } from '../../../src/face/eval/verificationMetrics.ts';

/** Seeded uniform (mulberry32), so a failure reproduces. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n draws of N(mean, 1) by Box–Muller. */
function gaussians(n: number, mean: number, seed: number): Float32Array {
  const u = uniform(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const a = 2 * Math.PI * u();
    out[i] = mean + r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(a);
  }
  return out;
}

test('30 M impostor pairs: AUC, EER and FNMR at each FMR as the two Gaussians predict, in bounded memory', () => {
  // impostor ~ N(0, 1), genuine ~ N(3, 1): AUC = Φ(3/√2), EER = Φ(−1.5) at t = 1.5,
  // FNMR at FMR f = Φ(Φ⁻¹(1 − f) − 3) (values from Python's statistics.NormalDist)
  const impostor = gaussians(30_000_000, 0, 1);
  const genuine = gaussians(1_000_000, 3, 2);
  const m = verificationMetrics(genuine, impostor);
  const close = (a: number, b: number, eps: number, what: string) => assert.ok(Math.abs(a - b) < eps, `${what}: ${a} vs ${b}`);
  assert.equal(m.impostorPairs, 30_000_000);
  close(m.auc, 0.9830525732376554, 1e-3, 'AUC');
  close(m.eer, 0.06680720126885809, 2e-3, 'EER');
  close(m.eerThreshold, 1.5, 0.01, 'EER threshold');
  const expected = { '1e-2': [2.3263478740408408, 0.25026625253320295], '1e-3': [3.090232306167813, 0.5359486937899742], '1e-4': [3.7190164854557084, 0.7639346188496039] } as const;
  for (const [k, [z, fnmr]] of Object.entries(expected)) {
    const p = m.atFmr[k as keyof typeof expected]!;
    close(p.threshold, z, 0.02, `threshold at FMR ${k}`);
    close(p.fnmr.rate, fnmr, 0.01, `FNMR at FMR ${k}`);
    assert.equal(p.fmr.errors, 30_000_000 * Number(k), `events at FMR ${k}`);
  }
  assert.ok(m.det.length > 100 && m.det.length < 2000, `${m.det.length} DET points`);
  // the inputs (120 MB + 4 MB) and one sorted copy of each; no per-pair objects or Set
  const rss = process.memoryUsage().rss / 2 ** 20;
  assert.ok(rss < 1024, `${rss.toFixed(0)} MiB resident`);
});
