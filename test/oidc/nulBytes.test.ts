/**
 * A NUL byte cannot be stored in Postgres text, so an id carrying one is simply unknown: every
 * OIDC endpoint that looks up a client, code, token or refresh token answers with its 4xx error
 * (invalid_client, invalid_grant, invalid_token, invalid_request), never a 500.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/main.ts';
import { startTestServer } from '../support/server.ts';
import { REDIRECT, registerRp, type Rp } from '../support/oidcFlow.ts';

const TENANT = 'default';
const NUL = 'a\0b';

let server: RunningServer;
let rp: Rp;
let base: string;

before(async () => {
  server = await startTestServer();
  rp = await registerRp(server, TENANT, 'NUL App');
  base = `${server.url}/t/${TENANT}`;
});

after(async () => {
  await server?.close();
});

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function answer(res: Response) {
  const text = await res.text();
  const error = text.startsWith('{') ? (JSON.parse(text) as { error?: string }).error : /<[^>]*>(invalid_[a-z_]+)</.exec(text)?.[1] ?? /(invalid_[a-z_]+)/.exec(text)?.[1];
  return { status: res.status, text, error };
}

async function get(path: string, params: Record<string, string>) {
  const url = new URL(`${base}${path}`);
  url.search = new URLSearchParams(params).toString();
  return answer(await fetch(url, { redirect: 'manual' }));
}

async function post(path: string, params: Record<string, string>, authorization?: string) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(params).toString(),
  });
  return answer(res);
}

const asClient = () => basic(rp.clientId, rp.clientSecret!);

test('a NUL byte in client_id, code, refresh_token or token is a 4xx at every endpoint', async () => {
  const cases: Array<{ name: string; run: () => Promise<{ status: number; error?: string; text: string }>; status: number; error: string }> = [
    { name: '/auth client_id', run: () => get('/auth', { client_id: NUL, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT }), status: 400, error: 'invalid_client' },
    { name: '/token client_id (basic)', run: () => post('/token', { grant_type: 'refresh_token', refresh_token: 'x' }, basic(NUL, 'secret')), status: 400, error: 'invalid_request' },
    { name: '/token client_id (body)', run: () => post('/token', { grant_type: 'refresh_token', refresh_token: 'x', client_id: NUL }), status: 401, error: 'invalid_client' },
    { name: '/token code', run: () => post('/token', { grant_type: 'authorization_code', code: NUL, redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43) }, asClient()), status: 400, error: 'invalid_grant' },
    { name: '/token refresh_token', run: () => post('/token', { grant_type: 'refresh_token', refresh_token: NUL }, asClient()), status: 400, error: 'invalid_grant' },
    { name: '/me access_token', run: () => post('/me', { access_token: NUL }), status: 401, error: 'invalid_token' },
    { name: 'revocation client_id (basic)', run: () => post('/token/revocation', { token: 'x' }, basic(NUL, 'secret')), status: 400, error: 'invalid_request' },
    { name: 'revocation client_id (body)', run: () => post('/token/revocation', { token: 'x', client_id: NUL }), status: 401, error: 'invalid_client' },
    { name: 'logout client_id', run: () => get('/session/end', { client_id: NUL }), status: 400, error: 'invalid_client' },
  ];
  const seen: string[] = [];
  for (const c of cases) {
    const r = await c.run();
    seen.push(`${c.name}: ${r.status} ${r.error ?? r.text.slice(0, 80)}`);
  }
  assert.deepEqual(seen, cases.map((c) => `${c.name}: ${c.status} ${c.error}`));
});

test('revoking a token with a NUL byte is the 200 of an unknown token (RFC 7009), not a 500', async () => {
  const r = await post('/token/revocation', { token: NUL }, asClient());
  assert.equal(r.status, 200, r.text);
  const hinted = await post('/token/revocation', { token: NUL, token_type_hint: 'refresh_token' }, asClient());
  assert.equal(hinted.status, 200, hinted.text);
});
