/**
 * Server errors, ours and oidc-provider's `server_error`, are each logged once with the request
 * id that the response carries in X-Request-Id and in its body, and the log line holds no request
 * body, token or client secret. The failures are real: the payload table is renamed away, and a
 * second tenant's signing key row is corrupt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startTestServer } from '../support/server.ts';
import { createLogger } from '../../src/logger.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createTenant } from '../../src/account/tenants.ts';

const REDIRECT = 'https://app.example/cb';
const CODE = 'a-token-that-must-never-reach-a-log-line';

let server: RunningServer;
let lines: Record<string, unknown>[] = [];
let logText = '';
let client: { clientId: string; clientSecret?: string };

before(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      lines.push(...chunk.toString().trim().split('\n').map((l: string) => JSON.parse(l)));
      done();
    },
  });
  server = await startTestServer({}, { logger: createLogger({ logLevel: 'info' }, sink) });
  client = await createClient(server, 'default', { redirectUris: [REDIRECT] }, 'test');
  await createTenant(server.db, { id: 'broken', name: 'Broken keys' }, 'test');
  await server.db.withTenant('broken', (sql) => sql.query(`INSERT INTO signing_keys (tenant_id, kid, jwk) VALUES ('broken', 'k1', '{"kty":"RSA","kid":"k1"}')`));
  lines = [];
  logText = '';
  // From here on every read or write of OIDC payloads (codes, interactions, sessions) fails.
  await server.db.asOwner((sql) => sql.query('ALTER TABLE oidc_payloads RENAME TO oidc_payloads_gone'));
});

after(async () => {
  await server?.db.asOwner((sql) => sql.query('ALTER TABLE oidc_payloads_gone RENAME TO oidc_payloads'));
  await server?.close();
});

function errorLinesFor(requestId: string) {
  return lines.filter((l) => l.level === 50 && l.requestId === requestId);
}

describe('server errors are logged with a request id', () => {
  test("oidc-provider's server_error at the token endpoint: logged, id in header and body, no secrets", async () => {
    const res = await fetch(`${server.url}/t/default/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      // A refresh token is looked up in the database (codes are in the key-value store).
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: CODE, client_id: client.clientId, client_secret: client.clientSecret! }),
    });
    assert.equal(res.status, 500);
    const requestId = res.headers.get('x-request-id');
    assert.ok(requestId);
    const body = await res.json();
    assert.equal(body.error, 'server_error');
    assert.equal(body.request_id, requestId);
    const logged = errorLinesFor(requestId);
    assert.equal(logged.length, 1, `one error line for ${requestId}: ${logText}`);
    assert.equal(logged[0].tenant, 'default');
    assert.equal(logged[0].path, '/token');
    assert.match(JSON.stringify(logged[0].err), /oidc_payloads/);
    assert.ok(!logText.includes(CODE), 'the token is not logged');
    assert.ok(!logText.includes(client.clientSecret!), 'the client secret is not logged');
  });

  test("our own 500 (a tenant whose provider cannot start): logged, id in header and page", async () => {
    const res = await fetch(`${server.url}/t/broken/auth`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 500);
    const requestId = res.headers.get('x-request-id')!;
    assert.ok(requestId);
    assert.ok((await res.text()).includes(requestId), 'the error page shows the request id');
    assert.equal(errorLinesFor(requestId).length, 1, logText);
  });

  test('every response carries its own request id', async () => {
    const a = await fetch(`${server.url}/healthz`);
    const b = await fetch(`${server.url}/t/default/.well-known/openid-configuration`);
    const ids = [a.headers.get('x-request-id'), b.headers.get('x-request-id')];
    assert.ok(ids[0] && ids[1] && ids[0] !== ids[1], JSON.stringify(ids));
  });
});
