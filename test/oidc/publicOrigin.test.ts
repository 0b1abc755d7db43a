/**
 * Every URL the provider hands out is built from PUBLIC_URL: a request for another origin (Host,
 * or X-Forwarded-Host/Proto when the proxy is trusted) is answered 421, never with a discovery
 * document or page pointing elsewhere. /healthz answers any host. Raw node:http requests, since
 * fetch cannot forge Host.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';

const PUBLIC_URL = 'https://id.example.test';
const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'id.example.test' };

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; json(): Record<string, unknown> };

function raw(server: RunningServer, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { accept: 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const DISCOVERY = '/t/default/.well-known/openid-configuration';
const PATHS = [DISCOVERY, '/t/default/jwks', '/t/default/auth', '/t/default/session/end', '/t/default/interaction/x', '/'];

function assertMisdirected(a: Answer, what: string) {
  assert.equal(a.status, 421, `${what}: ${a.status} ${a.body.slice(0, 300)}`);
  assert.equal(a.json().error, 'request.misdirected', what);
  assert.doesNotMatch(a.body, /"https?:\/\/evil\.example\//, `${what}: no URL on the foreign host`);
}

let direct: RunningServer;
let proxied: RunningServer;

before(async () => {
  direct = await startTestServer();
  proxied = await startTestServer({ PUBLIC_URL, TRUST_PROXY: 'true' });
});

after(async () => {
  await direct?.close();
  await proxied?.close();
});

describe('requests for another origin', () => {
  test('a foreign Host gets 421 on discovery, JWKS, endpoints, interactions and the index', async () => {
    for (const path of PATHS) assertMisdirected(await raw(direct, path, { host: 'evil.example' }), `Host evil.example ${path}`);
  });

  test('behind the trusted proxy, a foreign X-Forwarded-Host or a plain-http X-Forwarded-Proto gets 421', async () => {
    for (const path of PATHS) {
      assertMisdirected(await raw(proxied, path, { ...FORWARDED, 'x-forwarded-host': 'evil.example' }), `X-Forwarded-Host ${path}`);
      assertMisdirected(await raw(proxied, path, { ...FORWARDED, 'x-forwarded-proto': 'http' }), `X-Forwarded-Proto http ${path}`);
    }
    // Reached around the proxy (no forwarding headers): misdirected too, with the reason.
    const bypass = await raw(proxied, DISCOVERY);
    assertMisdirected(bypass, 'no forwarding headers');
    assert.match(String(bypass.json().error_description), /TRUST_PROXY/);
  });

  test('X-Forwarded-Host is ignored unless TRUST_PROXY is set', async () => {
    const a = await raw(direct, DISCOVERY, { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    assert.equal(a.status, 200);
    assert.doesNotMatch(a.body, /evil\.example/);
  });

  test('an absolute-form request target cannot name another host', async () => {
    const a = await raw(direct, `http://evil.example${DISCOVERY}`, { host: new URL(direct.url).host });
    assert.equal(a.status, 400);
    assert.equal(a.json().error, 'request.malformed');
  });

  test('/healthz answers any host (load balancers probe by IP)', async () => {
    for (const server of [direct, proxied]) {
      const a = await raw(server, '/healthz', { host: '10.0.0.7:3000' });
      assert.equal(a.status, 200);
      assert.deepEqual(a.json(), { ok: true });
    }
  });
});

describe('the public origin', () => {
  test('discovery names only PUBLIC_URL, and discovery and JWKS may be cached briefly', async () => {
    const a = await raw(proxied, DISCOVERY, FORWARDED);
    assert.equal(a.status, 200);
    const doc = a.json();
    for (const key of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint', 'revocation_endpoint']) {
      assert.ok(String(doc[key]).startsWith(`${PUBLIC_URL}/t/default`), `${key}: ${doc[key]}`);
    }
    assert.match(String(a.headers['cache-control']), /^public, max-age=\d+$/);
    const jwks = await raw(proxied, '/t/default/jwks', FORWARDED);
    assert.equal(jwks.status, 200);
    assert.match(String(jwks.headers['cache-control']), /^public, max-age=\d+$/);
  });
});
