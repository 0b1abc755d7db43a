/**
 * The tenant admin API on a real server: admin tokens from the tenant's own provider (client
 * credentials, admin scope, JWT), tenant isolation, every bad input a typed 4xx, every call
 * audited, and the OpenAPI document matching the router route for route.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { createUser, type User } from '../../src/account/users.ts';
import { createClient } from '../../src/account/clients.ts';
import { createAdminClient } from '../../src/admin/adminClient.ts';
import { adminRouter, ADMIN_ROUTES } from '../../src/admin/routes.ts';
import { openApiPath } from '../../src/admin/openapi.ts';

let server: RunningServer;
let alice: User;
let tokenA: string;
let tokenB: string;
let adminA: { clientId: string; clientSecret: string };

/** A client credentials token from `tenant`'s token endpoint. */
async function token(tenant: string, client: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/t/${tenant}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const issuer = (tenant: string) => `${server.url.replace('127.0.0.1', '127.0.0.1')}/t/${tenant}`;

async function adminToken(tenant: string, client: { clientId: string; clientSecret: string }, scope = 'admin'): Promise<string> {
  const r = await token(tenant, client, { resource: `${issuer(tenant)}/admin`, ...(scope ? { scope } : {}) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.access_token as string;
}

async function call(method: string, path: string, bearer?: string) {
  const res = await fetch(`${server.url}${path}`, { method, headers: { accept: 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

before(async () => {
  server = await startTestServer();
  await createTenant(server.db, { id: 'tenant-a', name: 'A' }, 'test');
  await createTenant(server.db, { id: 'tenant-b', name: 'B' }, 'test');
  alice = await createUser(server.db, 'tenant-a', { username: 'alice' }, 'test');
  await createUser(server.db, 'tenant-a', { username: 'alfred' }, 'test');
  await createUser(server.db, 'tenant-b', { username: 'bella' }, 'test');
  adminA = await createAdminClient(server, 'tenant-a', 'ops', 'test');
  tokenA = await adminToken('tenant-a', adminA);
  tokenB = await adminToken('tenant-b', await createAdminClient(server, 'tenant-b', 'ops', 'test'));
});
after(async () => {
  await server?.close();
});

describe('admin tokens', () => {
  it('are JWTs for the admin audience carrying the admin scope', () => {
    const payload = JSON.parse(Buffer.from(tokenA.split('.')[1], 'base64url').toString());
    assert.equal(payload.aud, `${issuer('tenant-a')}/admin`);
    assert.equal(payload.scope, 'admin');
    assert.equal(payload.client_id, adminA.clientId);
  });

  it('are refused to an ordinary client (no client credentials grant)', async () => {
    const rp = await createClient(server, 'tenant-a', { name: 'RP', redirectUris: ['https://rp.example/cb'] }, 'test');
    const r = await token('tenant-a', { clientId: rp.clientId, clientSecret: rp.clientSecret! }, { resource: `${issuer('tenant-a')}/admin`, scope: 'admin' });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.access_token, undefined);
  });
});

describe('admin API access', () => {
  it("answers 401 to tenant A's token on tenant B, to no token, a forged one and a malformed header", async () => {
    const cross = await call('GET', '/t/tenant-b/admin/users', tokenA);
    assert.equal(cross.status, 401);
    assert.equal(cross.body.error, 'admin.invalid_token');
    assert.match(cross.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal((await call('GET', '/t/tenant-a/admin/users', tokenB)).status, 401);
    assert.equal((await call('GET', '/t/tenant-a/admin/users')).status, 401);
    const [h, p] = tokenA.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), client_id: 'evil' })).toString('base64url')}.${tokenA.split('.')[2]}`;
    assert.equal((await call('GET', '/t/tenant-a/admin/users', forged)).status, 401);
    const res = await fetch(`${server.url}/t/tenant-a/admin/users`, { headers: { accept: 'application/json', authorization: `Basic ${tokenA}` } });
    assert.equal(res.status, 401);
    assert.equal((await call('GET', '/t/tenant-a/admin/users', 'x'.repeat(10_000))).status, 401);
  });

  it('answers 403 insufficient_scope to an admin client token without the admin scope', async () => {
    const noScope = await adminToken('tenant-a', adminA, '');
    const r = await call('GET', '/t/tenant-a/admin/users', noScope);
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'admin.insufficient_scope');
    assert.match(r.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  });
});

describe('admin API routes', () => {
  it('lists and searches users of its own tenant only', async () => {
    const all = await call('GET', '/t/tenant-a/admin/users', tokenA);
    assert.equal(all.status, 200);
    assert.deepEqual((all.body.users as { username: string }[]).map((u) => u.username), ['alfred', 'alice']);
    const search = await call('GET', '/t/tenant-a/admin/users?q=ali&limit=5', tokenA);
    assert.deepEqual((search.body.users as { id: string }[]).map((u) => u.id), [alice.id]);
    assert.deepEqual(((await call('GET', '/t/tenant-a/admin/users?q=bella', tokenA)).body.users as unknown[]), []);
  });

  it('answers typed 4xx to bad input: unknown user, malformed id, oversized or malformed query', async () => {
    const cases: [string, string, number, string][] = [
      ['DELETE', '/t/tenant-a/admin/users/00000000-0000-4000-8000-000000000000', 404, 'user.not_found'],
      ['DELETE', '/t/tenant-a/admin/users/00000000-0000-4000-8000-000000000000/face', 404, 'user.not_found'],
      ['DELETE', '/t/tenant-a/admin/users/not-a-uuid', 400, 'admin.invalid_id'],
      ['DELETE', `/t/tenant-a/admin/users/${alice.id.toUpperCase()}`, 400, 'admin.invalid_id'],
      ['GET', `/t/tenant-a/admin/users?q=${'a'.repeat(65)}`, 400, 'admin.invalid_query'],
      ['GET', '/t/tenant-a/admin/users?q=a&q=b', 400, 'admin.invalid_query'],
      ['GET', "/t/tenant-a/admin/users?q=%27%3B--", 400, 'admin.invalid_query'],
      ['GET', '/t/tenant-a/admin/users?limit=0', 400, 'admin.invalid_query'],
      ['GET', '/t/tenant-a/admin/users?limit=100000', 400, 'admin.invalid_query'],
      ['GET', '/t/tenant-a/admin/audit?after=-1', 400, 'admin.invalid_query'],
      ['GET', '/t/tenant-a/admin/nothing-here', 404, 'admin.no_route'],
      ['GET', '/t/no-such-tenant/admin/users', 404, 'tenant.not_found'],
    ];
    for (const [method, path, status, error] of cases) {
      const r = await call(method, path, tokenA);
      assert.deepEqual([r.status, r.body.error], [status, error], `${method} ${path}`);
    }
    // Another tenant's user is unknown here.
    const bella = ((await call('GET', '/t/tenant-b/admin/users', tokenB)).body.users as { id: string }[])[0];
    assert.equal((await call('DELETE', `/t/tenant-a/admin/users/${bella.id}`, tokenA)).status, 404);
  });

  it('deletes face data and users, reads and verifies the audit chain, lists clients; every call is audited', async () => {
    const victor = await createUser(server.db, 'tenant-a', { username: 'victor' }, 'test');
    const face = await call('DELETE', `/t/tenant-a/admin/users/${victor.id}/face`, tokenA);
    assert.deepEqual([face.status, face.body], [200, { removed: false }]);
    const gone = await call('DELETE', `/t/tenant-a/admin/users/${victor.id}`, tokenA);
    assert.equal(gone.status, 200);
    assert.match(String(gone.body.pseudonym), /^pseudonym:/);
    assert.equal((await call('DELETE', `/t/tenant-a/admin/users/${victor.id}`, tokenA)).status, 404);
    const verify = await call('GET', '/t/tenant-a/admin/audit/verify', tokenA);
    assert.equal(verify.body.ok, true, JSON.stringify(verify.body));
    const clients = await call('GET', '/t/tenant-a/admin/clients', tokenA);
    assert.ok((clients.body.clients as { clientId: string }[]).some((c) => c.clientId === adminA.clientId));
    assert.ok(!JSON.stringify(clients.body).includes(adminA.clientSecret), 'no secret');
    const events = (await call('GET', '/t/tenant-a/admin/audit?limit=1000', tokenA)).body.events as { type: string; actor: string; data: { route?: string; status?: number } }[];
    const calls = events.filter((e) => e.type === 'admin.api_call');
    assert.ok(calls.every((e) => e.actor === `admin:${adminA.clientId}`));
    assert.ok(calls.some((e) => e.data.route === '/users/:id' && e.data.status === 404));
    assert.ok(calls.some((e) => e.data.route === '/users/:id/face' && e.data.status === 200));
    assert.ok(events.some((e) => e.type === 'account.deleted' && e.actor === `admin:${adminA.clientId}`));
    assert.ok(!JSON.stringify(events).includes(victor.id), 'the deleted user is pseudonymized');
  });
});

describe('OpenAPI document', () => {
  it('is served and names every route of the router, and nothing else', async () => {
    const res = await fetch(`${server.url}/t/tenant-a/admin/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const router = adminRouter({ db: server.db, kv: server.kv, dataKey: server.dataKey }, 'tenant-a', issuer('tenant-a'));
    const routed = router.stack
      .map((l) => ({ path: String(l.path), methods: l.methods }))
      .filter((l) => !l.path.endsWith('/{*rest}') && !l.path.endsWith('/openapi.json'))
      .flatMap((l) => l.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${openApiPath(l.path.replace('/t/tenant-a/admin', ''))}`))
      .sort();
    assert.deepEqual(routed, documented);
    assert.equal(routed.length, ADMIN_ROUTES.length);
  });
});
