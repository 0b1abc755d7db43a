/**
 * Encrypted template matching (DESIGN.md §5–6): key generation, encryption, the blinder made
 * ahead of a match (fresh Enc_pk(M) + flooding), the server-side decision-only 1:1 match
 * (ct×pt, blinding, modulus switching, decision offset), the custodian's decision, end to end
 * through FaceTemplates (PGlite + in-process custodian, pooled blinders), plaintext cosine for
 * the ratio, sizes, noise budget, quantization error, and an RSS soak.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newCompactSecret, secretKeyOf } from '../src/custodian/compactSecretKey.ts';
import { kekRing } from '../src/custodian/kek.ts';
import { openKekStore } from '../src/custodian/kekStore.ts';
import { decryptDecision } from '../src/custodian/decryptDecision.ts';
import { sharedKeyThread } from '../src/custodian/keyThread.ts';
import { createLocalCustodian } from '../src/custodian/localCustodian.ts';
import { attemptsFor, TEST_RP } from '../test/support/liveAttempt.ts';
import { openKey, sealKey } from '../src/custodian/sealedKey.ts';
import { migrate } from '../src/store/migrate.ts';
import { CUSTODIAN_ROLE, openDatabase, type Database } from '../src/store/db.ts';
import { ephemeralDataKey } from '../src/store/dataKey.ts';
import { memoryStore, type KeyValueStore } from '../src/store/kv.ts';
import { freshDatabase, freshKeyValueStore } from '../test/support/services.ts';
import { bfv, loadCiphertext } from '../src/template/bfv.ts';
import { makeBlinder } from '../src/template/blinder.ts';
import { createFaceTemplates } from '../src/template/faceTemplates.ts';
import { decisionMatch, encryptTemplate } from '../src/template/matcher.ts';
import { findPublicKey, findTemplate } from '../src/template/templateStore.ts';
import { cosineFromScore, quantize, scoreThreshold } from '../src/template/quantize.ts';
import { percentile, round, type BenchPart, type Figure } from './harness.ts';

const DIM = 128;

function randomUnit(dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  let s = 0;
  for (const x of v) s += x * x;
  return v.map((x) => x / Math.sqrt(s));
}

/** Median and p95 in ms of `runs` calls after `warmup` unmeasured ones. */
async function time(runs: number, fn: () => unknown, warmup = Math.min(20, runs)): Promise<{ median: number; p95: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { median: percentile(samples, 50), p95: percentile(samples, 95) };
}

const rssMiB = () => process.memoryUsage.rss() / 2 ** 20;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Mean CPU ms of this process (every thread: PGlite, the custodian's key thread; not a Postgres
 * server) per call of `fn`, less that of `baseline` (work the call needs but is not part of it).
 */
async function cpuPerCall(runs: number, fn: () => Promise<unknown>, baseline?: () => Promise<unknown>): Promise<number> {
  const measure = async (f: () => Promise<unknown>) => {
    for (let i = 0; i < 10; i++) await f();
    const c0 = cpuMs();
    for (let i = 0; i < runs; i++) await f();
    return (cpuMs() - c0) / runs;
  };
  return (await measure(fn)) - (baseline ? await measure(baseline) : 0);
}

/**
 * The custodian's decision alone on a fresh database (Postgres or PGlite) with its own user, key
 * and masked result: wall median/p95 and CPU ms of this process per decision.
 */
async function decisionOn(db: Database, kv: KeyValueStore, kek: { id: string; key: Buffer }, user: string): Promise<{ median: number; p95: number; cpu: number }> {
  try {
    await db.asOwner((sql) => sql.query("INSERT INTO tenants (id, name) VALUES ('bench', 'bench')"));
    await db.withTenant('bench', (sql) => sql.query("INSERT INTO users (tenant_id, id, username) VALUES ('bench', $1, 'bench')", [user]));
    const keks = kekRing(openKekStore(mkdtempSync(path.join(tmpdir(), 'facegate-bench-keys-')), [kek]), [kek]);
    const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks, rp: TEST_RP, decryptLimit: 1e9, attemptLimit: 1e9, globalDecryptLimit: 1e9, alert: () => {} });
    // The user's device before the key: the custodian answers only passkeys older than the key.
    const maker = await attemptsFor(custodian, 'bench', user);
    const publicKey = await custodian.createUserKey('bench', user);
    const template = await encryptTemplate(publicKey, [quantize(randomUnit(DIM))]);
    const ciphertext = await decisionMatch({ template, probe: quantize(randomUnit(DIM)), threshold: 0, blinder: await makeBlinder(publicKey) });
    const live: Awaited<ReturnType<typeof maker.next>>[] = [];
    for (let i = 0; i < 240; i++) live.push(await maker.next());
    const decide = () => custodian.decideMatch('bench', user, { ciphertext, attempt: live.shift()! });
    const wall = await time(100, decide);
    return { ...wall, cpu: await cpuPerCall(100, decide) };
  } finally {
    await db.close();
    await kv.close();
  }
}

export default async function (): Promise<BenchPart> {
  const b = await bfv();
  const kek = { id: 'bench', key: randomBytes(32) };
  const user = '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41';

  // Key material the way the custodian makes it.
  let publicKey: Uint8Array = new Uint8Array();
  let sealed: Uint8Array = new Uint8Array();
  const keygen = await time(20, () => {
    const compact = newCompactSecret();
    using sk = secretKeyOf(b, compact);
    using kg = new b.seal.KeyGenerator(b.context, sk);
    using pk = kg.createPublicKeySerializable();
    sealed = sealKey(kek, 'bench', user, compact);
    compact.fill(0);
    publicKey = pk.saveToArray(b.seal.ComprModeType.zstd) as Uint8Array;
  }, 3);
  const secret = openKey(kek, 'bench', user, sealed);

  const t = quantize(randomUnit(DIM));
  const p = quantize(randomUnit(DIM));
  let template: Uint8Array = new Uint8Array();
  const encryptTpl = await time(50, async () => {
    template = await encryptTemplate(publicKey, [t]);
  });
  const blinderMs = await time(20, async () => {
    await makeBlinder(publicKey);
  }, 2);
  // Blinders are made ahead (blinderPool.ts): the match is timed with one ready.
  const theta = scoreThreshold(0.33);
  const matchRuns = 60;
  const ready = await Promise.all(Array.from({ length: matchRuns + 10 }, () => makeBlinder(publicKey)));
  let result: Uint8Array = new Uint8Array();
  const matchPlain = await time(matchRuns, async () => {
    result = await decisionMatch({ template, probe: p, threshold: theta, blinder: ready.pop()! });
  }, 10);
  const decrypt = await time(100, () => decryptDecision(secret, result));
  // The same in the custodian's key thread (keyThread.ts): what the hop to the worker adds.
  const keyThread = sharedKeyThread();
  await keyThread.ready();
  const decryptThread = await time(100, () => keyThread.decide(Uint8Array.from(secret), result));

  // Noise budget left, with a decryptor held by the bench.
  using skObj = secretKeyOf(b, secret);
  using decryptor = new b.seal.Decryptor(b.context, skObj);
  const budget = (bytes: Uint8Array) => {
    using c = loadCiphertext(b, bytes);
    // Stored templates are in NTT form; the budget is measured in coefficient form.
    if (c.isNttForm()) b.evaluator.cipherTransformFromNttInplace(c);
    return decryptor.invariantNoiseBudget(c);
  };
  const noise = { fresh: budget(template), result: budget(result) };

  // Plaintext cosine of two float embeddings.
  const u = randomUnit(DIM);
  const v = randomUnit(DIM);
  let sink = 0;
  const cosineRuns = 1_000_000;
  const c0 = performance.now();
  for (let k = 0; k < cosineRuns; k++) {
    let s = 0;
    for (let i = 0; i < DIM; i++) s += u[i] * v[(i + k) & (DIM - 1)];
    sink += s;
  }
  const plainCosineUs = ((performance.now() - c0) * 1000) / cosineRuns;
  if (Number.isNaN(sink)) throw new Error('unreachable');

  // End to end through the public API: Postgres in WASM, in-process custodian, audit included.
  const db = openDatabase({ dataKey: ephemeralDataKey() });
  await migrate(db);
  await db.asOwner((sql) => sql.query("INSERT INTO tenants (id, name) VALUES ('bench', 'bench')"));
  await db.withTenant('bench', (sql) => sql.query("INSERT INTO users (tenant_id, id, username) VALUES ('bench', $1, 'bench')", [user]));
  const kv = memoryStore();
  // Each decryption needs a live attempt; they are made (nonce issued, assertion signed) before the clock runs.
  const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: kekRing(openKekStore(mkdtempSync(path.join(tmpdir(), 'facegate-bench-keys-')), [kek]), [kek]), rp: TEST_RP, decryptLimit: 1e9, attemptLimit: 1e9, globalDecryptLimit: 1e9 });
  const templates = createFaceTemplates({ db, custodian, model: 'bench' });
  const face = randomUnit(DIM);
  // The blinders made after each enrollment are background work, left out of its time.
  const enrollSamples: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t0 = performance.now();
    await templates.enroll('bench', user, face.slice());
    if (i >= 2) enrollSamples.push(performance.now() - t0);
    await templates.idle();
  }
  const enroll = { median: percentile(enrollSamples, 50), p95: percentile(enrollSamples, 95) };
  // The device, then the enrollment its attempts are checked against (only older passkeys count).
  const maker = await attemptsFor(custodian, 'bench', user);
  await templates.enroll('bench', user, face.slice());
  // Made one after another and used in that order: the passkey's signature counter must only grow.
  const attempts = async (n: number) => {
    const made = [];
    for (let i = 0; i < n; i++) made.push(await maker.next());
    return made;
  };
  // Each match finds its blinder ready (a user's attempts are seconds apart): the pool's refill
  // runs between the timed calls.
  let live = await attempts(33);
  const e2eSamples: number[] = [];
  for (let i = 0; i < 33; i++) {
    await templates.idle();
    const t0 = performance.now();
    await templates.match('bench', user, face.slice(), { threshold: 0.33, attempt: live.shift()! });
    if (i >= 3) e2eSamples.push(performance.now() - t0);
  }
  await templates.idle();
  const e2e = { median: percentile(e2eSamples, 50), p95: percentile(e2eSamples, 95) };
  const stored = (await db.withTenant('bench', (sql) => findTemplate(sql, 'bench', user)))!;
  const storedKey = (await db.withTenant('bench', (sql) => findPublicKey(sql, 'bench', user, stored.version)))!;
  const forCustodian = await decisionMatch({ template: stored.ciphertext, probe: p, threshold: theta, blinder: await makeBlinder(storedKey) });
  live = await attempts(120);
  const decryptFull = await time(100, () => custodian.decideMatch('bench', user, { ciphertext: forCustodian, attempt: live.shift()! }));
  // CPU per server-side match, its blinder's making (done ahead of it) subtracted.
  const matchCpu = await cpuPerCall(50, async () => decisionMatch({ template: stored.ciphertext, probe: p, threshold: theta, blinder: await makeBlinder(storedKey) }), () => makeBlinder(storedKey));
  await db.close();
  await kv.close();
  const decisionLite = await decisionOn(await freshDatabase(''), memoryStore(), kek, user);
  const decisionPg = process.env.DATABASE_URL ? await decisionOn(await freshDatabase(), freshKeyValueStore(), kek, user) : undefined;

  // Quantization error of the cosine, random unit vectors.
  const errors: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const a = randomUnit(DIM);
    const w = randomUnit(DIM);
    const mixed = i % 2 ? w : Float32Array.from(a, (x, k) => x + 0.5 * w[k]);
    let n = 0;
    for (const x of mixed) n += x * x;
    const bvec = mixed.map((x) => x / Math.sqrt(n));
    let exact = 0;
    for (let k = 0; k < DIM; k++) exact += a[k] * bvec[k];
    const qa = quantize(a);
    const qb = quantize(bvec);
    let dot = 0;
    for (let k = 0; k < DIM; k++) dot += qa[k] * qb[k];
    errors.push(Math.abs(cosineFromScore(dot) - exact));
  }
  const quantMean = errors.reduce((s, e) => s + e, 0) / errors.length;

  // Soak: masked matches (with their blinders) and custodian decisions; every SEAL object must be freed.
  const soakRuns = 1_000;
  const rss: number[] = [];
  const soakStart = performance.now();
  for (let i = 0; i < soakRuns; i++) {
    const m = await decisionMatch({ template, probe: p, threshold: theta, blinder: await makeBlinder(publicKey) });
    const r = await decryptDecision(secret, m);
    if (r.outcome !== 'decision') throw new Error(`soak: ${r.outcome}`);
    if (i === 100 || (i + 1) % 300 === 0) rss.push(rssMiB());
  }
  const soakSeconds = (performance.now() - soakStart) / 1000;
  const rssStart = rss[0];
  const rssEnd = rss[rss.length - 1];

  const ms = (n: number): Figure => ({ value: round(n, 3), unit: 'ms' });
  const results: Record<string, Figure> = {
    'template.keygen_ms': ms(keygen.median),
    'template.encrypt_template_ms': ms(encryptTpl.median),
    'template.blinder_ms': ms(blinderMs.median),
    'template.match_1to1_server_ms': ms(matchPlain.median),
    'template.decrypt_ms': ms(decrypt.median),
    'template.custodian_decrypt_ms': ms(decryptFull.median),
    'template.decrypt_key_thread_ms': ms(decryptThread.median),
    'template.match_1to1_server_cpu_ms': ms(matchCpu),
    'template.custodian_decision_cpu_ms': ms(decisionLite.cpu),
    ...(decisionPg ? { 'template.custodian_decision_pg_ms': ms(decisionPg.median), 'template.custodian_decision_pg_cpu_ms': ms(decisionPg.cpu) } : {}),
    'template.e2e_1to1_ms': ms(e2e.median),
    'template.enroll_ms': ms(enroll.median),
    'template.plain_cosine_us': { value: round(plainCosineUs, 4), unit: 'µs' },
    'template.public_key_bytes': { value: publicKey.length, unit: 'B' },
    'template.sealed_secret_key_bytes': { value: sealed.length, unit: 'B' },
    'template.ciphertext_bytes': { value: template.length, unit: 'B' },
    'template.masked_result_bytes': { value: result.length, unit: 'B' },
    'template.noise_budget_result_bits': { value: noise.result, unit: 'bits' },
    'template.quantization_error_mean': { value: round(quantMean, 5), unit: 'cosine' },
    'template.quantization_error_max': { value: round(Math.max(...errors), 5), unit: 'cosine' },
    'template.soak_rss_start_mib': { value: round(rssStart, 1), unit: 'MiB' },
    'template.soak_rss_end_mib': { value: round(rssEnd, 1), unit: 'MiB' },
  };
  const row = (what: string, f: { median: number; p95: number }) => `| ${what} | ${round(f.median, 3)} | ${round(f.p95, 3)} |`;
  const markdown = `
BFV N = 8192, t = 1,073,692,673 (≈ 2^30), 128-bit default coefficient modulus (218 bits; 174 for data), node-seal 7.0.0 (SEAL 4.1 in WebAssembly), d = ${DIM}, one thread.

| step | median ms | p95 ms |
|---|---|---|
${row('key pair (custodian: keygen, seal secret key, serialize public key)', keygen)}
${row('encrypt template', encryptTpl)}
${row('blinder: Enc_pk(mask) + 2^110 flooding (made ahead, blinderPool.ts)', blinderMs)}
${row('**match 1:1, server side** (load template and blinder, NTT(a·probe), multiply, inverse NTT, add blinder, drop 2 primes, serialize, decision offset)', matchPlain)}
${row('custodian decision, SEAL part (compact key → SecretKey, decrypt, check, sign)', decrypt)}
${row('… the same in the custodian’s key thread (keyThread.ts; the difference is the hop)', decryptThread)}
${row('**custodian decideMatch** (rate limits, nonce spent, passkey assertion verified, key unseal + decrypt + audit, PGlite)', decryptFull)}
${row('custodian decideMatch alone, fresh PGlite', decisionLite)}
${decisionPg ? `${row('custodian decideMatch alone, Postgres + Redis (DATABASE_URL)', decisionPg)}\n` : ''}${row('end to end 1:1 FaceTemplates.match (PGlite, in-process custodian, pooled blinder, attempt prepared beforehand)', e2e)}
${row('enroll (key pair + encrypt + store)', enroll)}

- CPU per call (this process, every thread: PGlite and the custodian's key thread count, a Postgres server does not): server-side match ${round(matchCpu, 2)} ms; custodian decision ${round(decisionLite.cpu, 2)} ms on PGlite${decisionPg ? `, ${round(decisionPg.cpu, 2)} ms on Postgres` : ''}.
- Plaintext cosine ${results['template.plain_cosine_us'].value} µs, so the server side of an encrypted 1:1 match costs ≈ ${Math.round((matchPlain.median * 1000) / plainCosineUs).toLocaleString('en')}× a plaintext cosine.
- Sizes: public key ${publicKey.length} B (seeded, zstd), sealed secret key ${sealed.length} B (ternary coefficients at 2 bits, AES-GCM; compactSecretKey.ts), template ciphertext ${template.length} B, result ${result.length} B (2 of 4 data primes), uncompressed SEAL except the keys.
- Noise budget: fresh ${noise.fresh} bits, result after match + blinding (2^110 flooding) + modulus switching ${noise.result} bits.
- Quantization error of the cosine (10,000 random unit pairs, half of them similar): mean ${round(quantMean, 4)}, p99 ${round(percentile(errors, 99), 4)}, max ${round(Math.max(...errors), 4)}.
- Soak: ${soakRuns.toLocaleString('en')} blinders + matches + decisions in ${round(soakSeconds, 1)} s; RSS ${rss.map((x) => round(x, 1)).join(' → ')} MiB (after 100, then every 300): ${round((100 * (rssEnd - rssStart)) / rssStart, 1)} % from start to end.
`;
  return { title: 'Encrypted templates (BFV)', results, markdown };
}
