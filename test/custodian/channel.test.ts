/**
 * The channel to a separate custodian (channel.ts): mutual TLS with certificates made at test time
 * by `facegate custodian certs` (openssl), the Unix socket, and production's refusals of plain HTTP.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { CustodianTls } from '../../src/custodian/channel.ts';
import { makeDevCerts, type DevCerts } from '../../src/custodian/devCerts.ts';
import { createCustodianHttpServer } from '../../src/custodian/httpServer.ts';
import { checkCustodianListen, listenCustodian } from '../../src/custodian/listen.ts';
import { createLocalCustodian } from '../../src/custodian/localCustodian.ts';
import { openCustodian } from '../../src/custodian/openCustodian.ts';
import { createRemoteCustodian } from '../../src/custodian/remoteCustodian.ts';
import { ConfigError } from '../../src/errors.ts';
import { CUSTODIAN_ROLE } from '../../src/store/db.ts';
import { bfv } from '../../src/template/bfv.ts';
import { enrollAndDecide, TEST_RP } from '../support/liveAttempt.ts';
import { freshDatabase, freshKeyValueStore } from '../support/services.ts';
import { seedTenant, testKekRing } from '../template/fixtures.ts';
import { withCustodianService } from '../support/custodianService.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'facegate-channel-'));
// Three independent CAs: the deployment's, another one, and one whose custodian certificate names
// another host (`custodian`, while the provider dials 127.0.0.1).
const ours = await makeDevCerts(path.join(dir, 'ours'), ['localhost', '127.0.0.1']);
const other = await makeDevCerts(path.join(dir, 'other'), ['localhost', '127.0.0.1']);
const renamed = await makeDevCerts(path.join(dir, 'renamed'), ['custodian']);
const pem = (file: string) => readFileSync(file);
const serverTls = (c: DevCerts): CustodianTls => ({ cert: pem(c.serverCert), key: pem(c.serverKey), ca: pem(c.ca) });
const clientTls = (c: DevCerts): CustodianTls => ({ cert: pem(c.clientCert), key: pem(c.clientKey), ca: pem(c.ca) });

const db = await freshDatabase();
const kv = freshKeyValueStore();
await seedTenant(db, 'acme');
const token = 'a-shared-secret-of-at-least-32-characters';
const local = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: testKekRing(), rp: TEST_RP });
await bfv();
const servers: { close(): void }[] = [];
after(async () => {
  for (const s of servers) s.close();
  await db.close();
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A custodian over TLS on loopback; counts the HTTP requests that got past the handshake and
 * records why it refused handshakes (the certificate's verification error, else the TLS error).
 */
async function serve(tls: CustodianTls) {
  const server = createCustodianHttpServer(local, token, { tls });
  let requests = 0;
  const refused: string[] = [];
  server.on('request', () => requests++);
  server.on('tlsClientError', (e: NodeJS.ErrnoException, socket: { authorizationError?: string }) => refused.push(socket.authorizationError ?? e.code ?? e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, refused };
}

/** A POST with the right bearer token and the given TLS options: the status, or the error code. */
function rawPost(url: string, tls: https.RequestOptions): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.request(`${url}/v1/shred`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, agent: false, ...tls }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(JSON.stringify({ tenant: 'acme', user: '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41' }));
  });
}

test('a provider with the client certificate decides matches end to end over mutual TLS (configured from files)', async () => {
  const service = await serve(serverTls(ours));
  const config = loadConfig({ CUSTODIAN_URL: service.url, CUSTODIAN_CLIENT_CERT: ours.clientCert, CUSTODIAN_CLIENT_KEY: ours.clientKey, CUSTODIAN_TLS_CA: ours.ca, CUSTODIAN_TOKEN: token });
  await enrollAndDecide(db, openCustodian(config, { db, kv, rp: TEST_RP }));
  assert.ok(service.requests() >= 4);
  assert.deepEqual(service.refused, []);
});

test('a client without a certificate is refused at the handshake, even holding the token', async () => {
  const service = await serve(serverTls(ours));
  assert.equal(await rawPost(service.url, { ca: pem(ours.ca) }), 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  assert.equal(service.requests(), 0, 'no HTTP request reached the custodian');
  assert.deepEqual(service.refused, ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE']);
});

test('a client certificate from another CA, or the custodian’s own server certificate, is refused at the handshake', async () => {
  const service = await serve(serverTls(ours));
  const foreign = { cert: pem(other.clientCert), key: pem(other.clientKey), ca: pem(ours.ca) };
  // Node verifies the client's chain when the handshake completes and drops the connection before
  // reading a byte of HTTP: the client sees a reset, the server the verification error.
  assert.equal(typeof (await rawPost(service.url, foreign)), 'string');
  // Signed by our CA, but for serverAuth only: it cannot stand in for the provider.
  const wrongRole = { cert: pem(ours.serverCert), key: pem(ours.serverKey), ca: pem(ours.ca) };
  assert.equal(typeof (await rawPost(service.url, wrongRole)), 'string');
  // The provider's own client with the foreign certificate: unavailable, not a weaker channel.
  const provider = createRemoteCustodian({ endpoint: { url: service.url, tls: foreign }, token });
  await assert.rejects(provider.issueCaptureNonce('acme', '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41'), { code: 'custodian.unavailable', status: 503 });
  assert.equal(service.requests(), 0);
  assert.deepEqual(service.refused, ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'INVALID_PURPOSE', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
  assert.equal(await rawPost(service.url, { cert: pem(ours.clientCert), key: pem(ours.clientKey), ca: pem(ours.ca) }), 200, 'the right certificate passes');
});

test('an impostor custodian (server certificate from another CA, or for another name) gets no request: custodian.unavailable', async () => {
  // The impostor accepts our client certificate: only its own identity is wrong.
  const foreignCa = await serve({ cert: pem(other.serverCert), key: pem(other.serverKey), ca: pem(ours.ca) });
  const provider = createRemoteCustodian({ endpoint: { url: foreignCa.url, tls: clientTls(ours) }, token });
  await assert.rejects(provider.issueCaptureNonce('acme', '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41'), (e: Error & { code: string; cause: { code: string } }) => {
    assert.equal(e.code, 'custodian.unavailable');
    assert.match(e.cause.code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    return true;
  });
  assert.equal(foreignCa.requests(), 0, 'the bearer token never left the provider');
  const wrongName = await serve(serverTls(renamed));
  const dialing = createRemoteCustodian({ endpoint: { url: wrongName.url, tls: clientTls(renamed) }, token });
  await assert.rejects(dialing.shredUserKey('acme', '0b6f3c1e-8a52-4c47-9d0e-2f7a3b1c9d41'), (e: Error & { code: string; cause: { code: string } }) => {
    assert.equal(e.code, 'custodian.unavailable');
    assert.equal(e.cause.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    return true;
  });
  assert.equal(wrongName.requests(), 0);
});

test('co-located: the custodian listens on a Unix socket of mode 0600 (or 0660), the provider decides over it, a second listener is refused', async () => {
  const socket = path.join(dir, 'custodian.sock');
  const listen = { custodianTls: undefined, custodianHost: '127.0.0.1', custodianPort: 0, production: true };
  const server = createCustodianHttpServer(local, token);
  assert.equal(await listenCustodian(server, { ...listen, custodianSocket: { path: socket, mode: 0o600 } }), `unix:${socket}`);
  servers.push(server);
  assert.ok(statSync(socket).isSocket());
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  const config = loadConfig({ CUSTODIAN_SOCKET: socket, CUSTODIAN_TOKEN: token });
  assert.deepEqual(config.custodian.mode === 'remote' && config.custodian.endpoint, { socket });
  await enrollAndDecide(db, openCustodian(config, { db, kv, rp: TEST_RP }));
  const second = createCustodianHttpServer(local, token);
  await assert.rejects(listenCustodian(second, { ...listen, custodianSocket: { path: socket, mode: 0o600 } }), (e) => e instanceof ConfigError && /another process is listening/.test(e.message));

  const grouped = path.join(dir, 'grouped.sock');
  const third = createCustodianHttpServer(local, token);
  await listenCustodian(third, { ...listen, custodianSocket: { path: grouped, mode: 0o660 } });
  servers.push(third);
  assert.equal(statSync(grouped).mode & 0o777, 0o660);
  assert.equal(loadConfig({ CUSTODIAN_SOCKET: grouped, CUSTODIAN_SOCKET_MODE: '0660', CUSTODIAN_TOKEN: token }).custodianSocket?.mode, 0o660);
  assert.throws(() => loadConfig({ CUSTODIAN_SOCKET: grouped, CUSTODIAN_SOCKET_MODE: '0666', CUSTODIAN_TOKEN: token }), /CUSTODIAN_SOCKET_MODE must be 0600 or 0660/);
});

const production = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://id.example.com',
  COOKIE_KEYS: 'c'.repeat(32),
  FACEGATE_DATA_KEY: `d1:${Buffer.alloc(32, 1).toString('base64')}`,
  CUSTODIAN_TOKEN: token,
};

test('production refuses a plain http:// custodian URL to another host (one-line config error); loopback, https and the socket pass', () => {
  for (const url of ['http://custodian:3100', 'http://10.0.0.5:3100', 'http://127.0.0.1.example.com:3100']) {
    assert.throws(() => loadConfig({ ...production, CUSTODIAN_URL: url }), (e) => e instanceof ConfigError && /plain HTTP to another host/.test(e.message) && !e.message.includes('\n'), url);
    assert.equal(loadConfig({ CUSTODIAN_URL: url, CUSTODIAN_TOKEN: token }).custodian.mode, 'remote', 'outside production it is allowed');
  }
  for (const url of ['http://127.0.0.1:3100', 'http://localhost:3100', 'http://[::1]:3100']) assert.equal(loadConfig({ ...production, CUSTODIAN_URL: url }).custodian.mode, 'remote', url);
  const tls = { CUSTODIAN_CLIENT_CERT: ours.clientCert, CUSTODIAN_CLIENT_KEY: ours.clientKey, CUSTODIAN_TLS_CA: ours.ca };
  const secure = loadConfig({ ...production, ...tls, CUSTODIAN_URL: 'https://custodian:3100' });
  assert.deepEqual(secure.custodian.mode === 'remote' && secure.custodian.endpoint, { url: 'https://custodian:3100', tls: clientTls(ours) });
  assert.equal(loadConfig({ ...production, CUSTODIAN_SOCKET: path.join(dir, 'x.sock') }).custodian.mode, 'remote');
  const refusals: [Record<string, string>, RegExp][] = [
    [{ CUSTODIAN_URL: 'https://custodian:3100' }, /https:\/\/ CUSTODIAN_URL needs CUSTODIAN_CLIENT_CERT/],
    [{ ...tls, CUSTODIAN_URL: 'http://127.0.0.1:3100' }, /CUSTODIAN_CLIENT_CERT is set but CUSTODIAN_URL is http:\/\//],
    [{ CUSTODIAN_URL: 'ftp://custodian:3100' }, /must be http:\/\/ or https:\/\//],
    [{ CUSTODIAN_URL: 'http://127.0.0.1:3100', CUSTODIAN_SOCKET: '/run/c.sock' }, /not both/],
    [{ CUSTODIAN_URL: 'https://custodian:3100', CUSTODIAN_CLIENT_CERT: ours.clientCert, CUSTODIAN_CLIENT_KEY: ours.clientKey }, /CUSTODIAN_TLS_CA missing/],
    [{ ...tls, CUSTODIAN_CLIENT_KEY: path.join(dir, 'nope.key'), CUSTODIAN_URL: 'https://custodian:3100' }, /CUSTODIAN_CLIENT_KEY: cannot read .*nope\.key \(ENOENT\)/],
    [{ CUSTODIAN_TLS_CERT: ours.serverCert }, /CUSTODIAN_TLS_KEY and CUSTODIAN_TLS_CA missing/],
  ];
  for (const [env, message] of refusals) assert.throws(() => loadConfig({ ...env, CUSTODIAN_TOKEN: token }), (e) => e instanceof ConfigError && message.test(e.message), JSON.stringify(env));
});

test('production refuses to listen in plain HTTP off loopback: TLS, a socket or loopback pass', async () => {
  const base = { custodianTls: undefined, custodianSocket: undefined, custodianPort: 3100, production: true };
  for (const host of ['0.0.0.0', '::', '10.0.0.5']) {
    assert.throws(() => checkCustodianListen({ ...base, custodianHost: host }), (e) => e instanceof ConfigError && /plain HTTP on/.test(e.message) && !e.message.includes('\n'), host);
    checkCustodianListen({ ...base, custodianHost: host, production: false });
    checkCustodianListen({ ...base, custodianHost: host, custodianTls: serverTls(ours) });
    checkCustodianListen({ ...base, custodianHost: host, custodianSocket: { path: '/run/c.sock', mode: 0o600 } });
  }
  checkCustodianListen({ ...base, custodianHost: '127.0.0.1' });
  assert.throws(() => checkCustodianListen({ ...base, custodianHost: '127.0.0.1', custodianTls: serverTls(ours), custodianSocket: { path: '/run/c.sock', mode: 0o600 } }), /unset CUSTODIAN_TLS_CERT/);

  // The service itself, before it opens anything (it needs none of the provider's cookie keys);
  // sharing CUSTODIAN_SOCKET with the provider, it still needs its FACEGATE_KEK.
  const { COOKIE_KEYS: _, ...custodianEnv } = production;
  const start = async (env: Record<string, string>) => {
    const child = spawn(process.execPath, ['src/custodian/server.ts'], { env: { PATH: process.env.PATH, ...custodianEnv, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    return { code, stderr };
  };
  const kek = `k1:${Buffer.alloc(32, 2).toString('base64')}`;
  const plain = await start({ FACEGATE_KEK: kek, CUSTODIAN_HOST: '0.0.0.0' });
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /^config error: the custodian would listen in plain HTTP on 0\.0\.0\.0: .*\n$/);
  const keyless = await start({ CUSTODIAN_SOCKET: path.join(dir, 'keyless.sock') });
  assert.equal(keyless.code, 1);
  assert.match(keyless.stderr, /FACEGATE_KEK is required in production/);
});

test('`npm run custodian` with CUSTODIAN_TLS_* serves mutual TLS; the provider matches through it', async (t) => {
  if (!db.url) return t.skip('needs DATABASE_URL: the separate custodian shares Postgres with the provider');
  const kek = { id: 'svc', key: randomBytes(32) };
  const env = {
    CUSTODIAN_DATABASE_URL: db.custodianUrl!,
    PUBLIC_URL: TEST_RP.origin,
    CUSTODIAN_TOKEN: token,
    CUSTODIAN_PORT: '0',
    CUSTODIAN_TLS_CERT: ours.serverCert,
    CUSTODIAN_TLS_KEY: ours.serverKey,
    CUSTODIAN_TLS_CA: ours.ca,
    FACEGATE_KEK: `${kek.id}:${kek.key.toString('base64')}`,
    CUSTODIAN_KEY_DIR: path.join(dir, 'service-keys'),
  };
  await withCustodianService(env, 'https', async (serviceUrl) => {
    // The service's first call loads SEAL's WASM and makes a key pair: seconds on a busy machine.
    await enrollAndDecide(db, createRemoteCustodian({ endpoint: { url: serviceUrl, tls: clientTls(ours) }, token, timeoutMs: 30_000 }));
    assert.equal(await rawPost(serviceUrl, { ca: pem(ours.ca) }), 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });
});
