import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { CUSTODIAN_METHODS } from '../../src/custodian/custodian.ts';
import { createCustodianHttpServer } from '../../src/custodian/httpServer.ts';
import { openKekStore } from '../../src/custodian/kekStore.ts';
import { sharedKeyThread } from '../../src/custodian/keyThread.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { createRemoteCustodian } from '../../src/custodian/remoteCustodian.ts';
import { createFaceTemplates } from '../../src/template/faceTemplates.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { attemptsFor, enrollAndDecide, TEST_RP } from '../support/liveAttempt.ts';
import { freshDatabase, freshKeyValueStore } from '../support/services.ts';
import { newKek, seedTenant, seedUser, testKekRing } from '../template/fixtures.ts';
import { makeBlinder } from '../../src/template/blinder.ts';
import { decisionMatch, encryptTemplate } from '../../src/template/matcher.ts';
import { quantize } from '../../src/template/quantize.ts';
import { dot, randomUnit } from '../template/vectors.ts';
import { withCustodianService } from '../support/custodianService.ts';

const db = await freshDatabase();
const kv = freshKeyValueStore();
await seedTenant(db, 'acme');
const token = 'a-shared-secret-of-at-least-32-characters';
const local = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: testKekRing(), rp: TEST_RP, decryptLimit: 3 });
// The in-process service has its key thread ready as `npm run custodian` does before listening.
await sharedKeyThread().ready();
const server = createCustodianHttpServer(local, token);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(async () => {
  server.close();
  await db.close();
  await kv.close();
});

test('the provider enrolls, matches and removes through the remote custodian', async () => {
  const remote = createRemoteCustodian({ endpoint: { url }, token });
  // The client is the narrow interface and nothing else: it holds a URL and a token, no keys.
  assert.deepEqual(Object.keys(remote).sort(), [...CUSTODIAN_METHODS].sort());
  const { templates, userId, face, attempts } = await enrollAndDecide(db, remote);
  assert.equal(await templates.remove('acme', userId), true);
  await assert.rejects(templates.match('acme', userId, face.slice(), { threshold: 0.5, attempt: await attempts.next() }), { code: 'template.not_enrolled' });
});

test('the answer to a decision request carries one bit: the HTTP body is one of two fixed strings', async () => {
  const userId = await seedUser(db, 'acme');
  const attempts = await attemptsFor(local, 'acme', userId);
  const publicKey = await local.createUserKey('acme', userId);
  const t = quantize(randomUnit(128));
  const p = quantize(randomUnit(128));
  const template = await encryptTemplate(publicKey, [t]);
  const bodies = new Set<string>();
  for (const threshold of [dot(p, t), dot(p, t) + 1]) {
    const ciphertext = await decisionMatch({ template, probe: p, threshold, blinder: await makeBlinder(publicKey) });
    const attempt = await attempts.next();
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const res = await fetch(`${url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ tenant: 'acme', user: userId, ciphertext: b64(ciphertext), attempt: { nonce: attempt.nonce, frameHashes: attempt.frameHashes.map(b64), assertion: attempt.assertion } }),
    });
    assert.equal(res.status, 200);
    bodies.add(await res.text());
  }
  assert.deepEqual([...bodies], ['{"decision":"accept"}', '{"decision":"reject"}']);
});

test('a wrong or missing token gets 401', async () => {
  for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}x`, token]) {
    const res = await fetch(`${url}/v1/shred`, {
      method: 'POST',
      headers: authorization ? { authorization } : {},
      body: JSON.stringify({ tenant: 'acme', user: '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41' }),
    });
    assert.equal(res.status, 401);
  }
  const wrong = createRemoteCustodian({ endpoint: { url }, token: 'not-the-token-but-long-enough-xxxxxxxxx' });
  await assert.rejects(wrong.createUserKey('acme', '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41'), { code: 'custodian.unauthorized' });
});

test('errors keep their codes across HTTP: not found, bad input, rate limit, unknown route', async () => {
  const remote = createRemoteCustodian({ endpoint: { url }, token });
  const keyless = await seedUser(db, 'acme');
  const keylessAttempts = await attemptsFor(remote, 'acme', keyless);
  await assert.rejects(remote.decideMatch('acme', keyless, { ciphertext: new Uint8Array(4), attempt: await keylessAttempts.next() }), { code: 'custodian.no_key', status: 404 });
  await assert.rejects(remote.createUserKey('acme', 'nope'), { code: 'custodian.bad_user', status: 400 });
  const userId = await seedUser(db, 'acme');
  const attempts = await attemptsFor(remote, 'acme', userId);
  await remote.createUserKey('acme', userId);
  const decide = async () => remote.decideMatch('acme', userId, { ciphertext: new Uint8Array(4), attempt: await attempts.next() });
  for (let i = 0; i < 3; i++) await assert.rejects(decide(), { code: 'template.bad_ciphertext' });
  await assert.rejects(decide(), (e: { code: string; retryAfterSeconds: number }) => e.code === 'custodian.rate_limited' && e.retryAfterSeconds > 0);
  const res = await fetch(`${url}/v1/export-key`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
  assert.equal(res.status, 404, 'no such call exists');
  const bad = await fetch(`${url}/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: 'not json' });
  assert.equal(bad.status, 400);
  const unreachable = createRemoteCustodian({ endpoint: { url: 'http://127.0.0.1:1' }, token });
  await assert.rejects(unreachable.shredUserKey('acme', userId), { code: 'custodian.unavailable' });
});

test('`npm run custodian` runs as its own process holding the KEK; the provider holds none', async (t) => {
  if (!db.url) return t.skip('needs DATABASE_URL: the separate custodian shares Postgres with the provider');
  const kek = newKek('svc');
  const keyDir = mkdtempSync(path.join(tmpdir(), 'facegate-service-keys-'));
  t.after(() => rmSync(keyDir, { recursive: true, force: true }));
  const env = {
    CUSTODIAN_DATABASE_URL: db.custodianUrl!,
    PUBLIC_URL: TEST_RP.origin,
    CUSTODIAN_TOKEN: token,
    CUSTODIAN_PORT: '0',
    FACEGATE_KEK: `${kek.id}:${kek.key.toString('base64')}`,
    CUSTODIAN_KEY_DIR: keyDir,
    LOG_LEVEL: 'silent',
  };
  await withCustodianService(env, 'http', async (serviceUrl) => {
    // This process never sees the service's KEK: enrollment and matching still work.
    // The service's first call loads SEAL's WASM and makes a key pair: seconds on a busy machine.
    const service = createRemoteCustodian({ endpoint: { url: serviceUrl }, token, timeoutMs: 30_000 });
    const templates = createFaceTemplates({ db, custodian: service, model: 'test-128' });
    const userId = await seedUser(db, 'acme');
    const face = randomUnit(128);
    const attempts = await attemptsFor(service, 'acme', userId);
    await templates.enroll('acme', userId, face.slice());
    assert.deepEqual(await templates.match('acme', userId, face.slice(), { threshold: 0.98, attempt: await attempts.next() }), { accepted: true });
    await templates.idle();
    const { rows } = await db.asOwner((sql) => sql.query<{ kek_id: string }>('SELECT kek_id FROM custodian_keys WHERE user_id = $1', [userId]));
    // Sealed under the service's current epoch, whose KEK is only in the service's key store.
    assert.equal(rows[0].kek_id, openKekStore(keyDir, [kek]).read().epochs[0].id);
    const res = await fetch(`${serviceUrl}/v1/shred`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 401);
  });
});

test('the custodian service refuses to start without its database URL', async () => {
  const child = spawn(process.execPath, ['src/custodian/server.ts'], { env: { PATH: process.env.PATH, CUSTODIAN_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 1);
  assert.match(stderr, /needs CUSTODIAN_DATABASE_URL/);
});

test('separate credentials: an attempt token cannot create keys, register passkeys or shred; each scope only its calls', async () => {
  const tokens = { attempt: 'attempt-token-of-at-least-32-characters', enroll: 'enroll-token-of-at-least-32-characters', shred: 'shred-token-of-at-least-32-characters!' };
  const scoped = createCustodianHttpServer(local, tokens);
  scoped.listen(0, '127.0.0.1');
  await once(scoped, 'listening');
  const scopedUrl = `http://127.0.0.1:${(scoped.address() as AddressInfo).port}`;
  try {
    const userId = await seedUser(db, 'acme');
    const as = (token: string) => createRemoteCustodian({ endpoint: { url: scopedUrl }, token });
    for (const token of [tokens.attempt, tokens.shred]) await assert.rejects(as(token).createUserKey('acme', userId), { code: 'custodian.forbidden', status: 403 });
    for (const token of [tokens.enroll, tokens.shred]) await assert.rejects(as(token).issueCaptureNonce('acme', userId), { code: 'custodian.forbidden' });
    for (const token of [tokens.attempt, tokens.enroll]) await assert.rejects(as(token).shredUserKey('acme', userId), { code: 'custodian.forbidden' });
    await assert.rejects(as('x'.repeat(40)).shredUserKey('acme', userId), { code: 'custodian.unauthorized' });
    // The provider holds all three and uses each for its calls.
    const provider = createRemoteCustodian({ endpoint: { url: scopedUrl }, token: tokens });
    const attempts = await attemptsFor(provider, 'acme', userId);
    await provider.createUserKey('acme', userId);
    await assert.rejects(provider.decideMatch('acme', userId, { ciphertext: new Uint8Array(4), attempt: await attempts.next() }), { code: 'template.bad_ciphertext' });
    assert.equal(await provider.shredUserKey('acme', userId), true);
    const c = loadConfig({ CUSTODIAN_URL: scopedUrl, CUSTODIAN_TOKEN: tokens.attempt, CUSTODIAN_ENROLL_TOKEN: tokens.enroll, CUSTODIAN_SHRED_TOKEN: tokens.shred });
    assert.deepEqual(c.custodian.mode === 'remote' && c.custodian.token, tokens);
    assert.throws(() => loadConfig({ CUSTODIAN_TOKEN: tokens.attempt, CUSTODIAN_SHRED_TOKEN: 'short' }), /CUSTODIAN_SHRED_TOKEN must be at least 32/);
  } finally {
    scoped.close();
  }
});
