/**
 * Where a token request's state lives and what it costs (adapter.ts): access tokens in the
 * key-value store, hashed and sealed, none in the database; the reads of the grant, session and
 * user start together as soon as the refresh token or code is found (one round trip). Revoking a grant in the account area
 * (account/consents.ts) ends its access and refresh tokens at once, also on a second provider
 * process sharing the database and store; so does deleting the user.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createUser, type User } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { revokeConsent } from '../../src/account/consents.ts';
import { deleteAccount } from '../../src/account/deletion.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { openDatabase } from '../../src/store/db.ts';
import { openKeyValueStore } from '../../src/store/kv.ts';
import { freePort, startTestServer } from '../support/server.ts';
import { usingRealServices, type TestDatabase } from '../support/services.ts';
import { recordingStore } from '../support/storeDump.ts';
import { authorize, exchangeCode, registerRp, tokenRequest, type Rp } from '../support/oidcFlow.ts';

const TENANT = 'default';
const PIN = '574913';

let server: RunningServer;
/** A second provider process on the same database and store (Postgres and Redis only). */
let other: RunningServer | undefined;
let kv: ReturnType<typeof recordingStore>;
let rp: Rp;
let otherRp: Rp | undefined;

before(async () => {
  const prefix = `facegate-test:${randomBytes(6).toString('hex')}:`;
  kv = recordingStore(openKeyValueStore(process.env.REDIS_URL, prefix));
  const cookieKeys = randomBytes(32).toString('hex');
  server = await startTestServer({ COOKIE_KEYS: cookieKeys }, { kv });
  rp = await registerRp(server, TENANT, 'Storage App');
  if (usingRealServices) {
    const db = server.db as TestDatabase;
    const port = await freePort();
    const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent', COOKIE_KEYS: cookieKeys, FACEGATE_KEK: `other:${randomBytes(32).toString('base64')}`, CUSTODIAN_KEY_DIR: mkdtempSync(path.join(tmpdir(), 'facegate-keys-')) });
    const otherDb = openDatabase({ url: db.url, dataKey: server.dataKey });
    other = await startServer(config, { db: otherDb, kv: openKeyValueStore(process.env.REDIS_URL, prefix), dataKey: server.dataKey });
    otherRp = { ...rp, issuer: `${other.url}/t/${TENANT}` };
  }
});

after(async () => {
  await other?.close();
  await server?.close();
});

async function signedUpUser(): Promise<User> {
  const user = await createUser(server.db, TENANT, { username: `u-${randomBytes(4).toString('hex')}` }, 'test');
  await setPin(server.db, TENANT, user.id, PIN, 'test');
  return user;
}

function userinfo(client: Rp, accessToken: unknown) {
  return fetch(`${client.issuer}/me`, { headers: { authorization: `Bearer ${String(accessToken)}` } });
}

/**
 * The database statements and key-value calls `fn` makes on the server's handles; `overlapping`
 * lists, per statement, the others in flight when it was sent (sent together: one round trip).
 */
async function counting<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[]; overlapping: number[][]; store: string[] }> {
  const statements: string[] = [];
  const overlapping: number[][] = [];
  const inFlight = new Set<number>();
  const store: string[] = [];
  const db = server.db;
  const statement = db.statement;
  db.statement = ((tenantId: string, text: string, params?: unknown[]) => {
    const i = statements.push(text.replace(/\s+/g, ' ').slice(0, 80)) - 1;
    overlapping.push([...inFlight]);
    for (const j of inFlight) overlapping[j].push(i);
    inFlight.add(i);
    return statement(tenantId, text, params).finally(() => inFlight.delete(i));
  }) as typeof db.statement;
  const methods = ['get', 'getMany', 'set', 'setIfAbsent', 'setIfAbsentUnless', 'take', 'delete'] as const;
  const saved = methods.map((m) => kv[m]);
  for (const m of methods) {
    const original = kv[m] as (...a: unknown[]) => Promise<unknown>;
    (kv as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      store.push(`${m} ${String(a[0]).split(':')[2]}`);
      return original(...a);
    };
  }
  try {
    return { result: await fn(), statements, overlapping, store };
  } finally {
    db.statement = statement;
    methods.forEach((m, i) => ((kv as unknown as Record<string, unknown>)[m] = saved[i]));
  }
}

describe('token requests', () => {
  test('a refresh reads the grant and user together once the refresh token is found, and writes its access token to the store; a code exchange reads session, grant and user together and makes two store requests before writing its access token', async () => {
    const user = await signedUpUser();
    const first = await authorize(rp, { username: user.username, pin: PIN });
    const tokens = await exchangeCode(rp, first);
    assert.equal(tokens.status, 200);

    const refresh = await counting(() => tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) }));
    assert.equal(refresh.result.status, 200);
    assert.equal(refresh.statements.length, 3, `the refresh token, its grant, its user: ${refresh.statements.join(' | ')}`);
    assert.deepEqual(refresh.overlapping, [[], [2], [1]], 'the grant and user reads are sent together, after the refresh token read');
    assert.deepEqual(refresh.store, ['set AccessToken']);

    // Without offline_access the code and its token expire with the session: read in the same statement.
    const second = await authorize(rp, { username: user.username, pin: PIN }, { driver: first.driver, prompt: '', scope: 'openid' });
    const exchange = await counting(() => exchangeCode(rp, second));
    assert.equal(exchange.result.status, 200);
    assert.equal(exchange.result.body.refresh_token, undefined);
    assert.equal(exchange.statements.length, 3, `the session, grant and user of the code: ${exchange.statements.join(' | ')}`);
    assert.deepEqual(exchange.overlapping.map((o) => o.length), [2, 2, 2], 'the three reads are sent together');
    assert.deepEqual(
      exchange.store,
      ['getMany AuthorizationCode', 'setIfAbsentUnless AuthorizationCode', 'set AccessToken'],
      'the code and its consumed marker in one read; consumed unless its grant was revoked in one step; the access token written',
    );
    assert.equal((await userinfo(rp, exchange.result.body.access_token)).status, 200, 'a token bound to the session serves userinfo');
  });

  test('a rotating refresh consumes the old token in the statement that inserts the new one; a replay of the old one then fails', async () => {
    const spa = await registerRp(server, TENANT, 'Storage SPA', { public: true });
    const user = await signedUpUser();
    const tokens = await exchangeCode(spa, await authorize(spa, { username: user.username, pin: PIN }));
    const old = String(tokens.body.refresh_token);
    const rotated = await counting(() => tokenRequest(spa, { grant_type: 'refresh_token', refresh_token: old }));
    assert.equal(rotated.result.status, 200);
    assert.notEqual(rotated.result.body.refresh_token, old, 'a public client gets a new refresh token');
    assert.equal(rotated.statements.length, 4, `three reads, one consume-and-insert: ${rotated.statements.join(' | ')}`);
    assert.match(rotated.statements[3], /^WITH consumed AS \( UPDATE/);
    const replay = await tokenRequest(spa, { grant_type: 'refresh_token', refresh_token: old });
    assert.equal(replay.body.error, 'invalid_grant');
    const next = await tokenRequest(spa, { grant_type: 'refresh_token', refresh_token: String(rotated.result.body.refresh_token) });
    assert.equal(next.body.error, 'invalid_grant', "a replayed refresh token revokes its grant (oidc-provider's reuse detection)");
  });

  test('access tokens are kept hashed and sealed in the store, not in the database, and serve userinfo', async () => {
    const user = await signedUpUser();
    const tokens = await exchangeCode(rp, await authorize(rp, { username: user.username, pin: PIN }));
    const accessToken = String(tokens.body.access_token);
    const res = await userinfo(rp, accessToken);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { sub: string }).sub, user.id);
    const rows = await server.db.asOwner((sql) => sql.query("SELECT 1 FROM oidc_payloads WHERE model = 'AccessToken'"));
    assert.equal(rows.rowCount, 0, 'no access token rows in the database');
    const writes = kv.written.filter((w) => w.where.includes(':AccessToken:'));
    assert.ok(writes.length > 0, 'access tokens were written to the store');
    assert.deepEqual(kv.written.filter((w) => (w.text ?? '').includes(accessToken)).map((w) => w.where), [], 'the access token in clear in the store');
    assert.ok(!writes.some((w) => (w.text ?? '').includes(user.id)), 'payloads are sealed');
  });

  test('revoking the grant in the account area ends its access and refresh tokens at once, on every process', async () => {
    const user = await signedUpUser();
    const tokens = await exchangeCode(rp, await authorize(rp, { username: user.username, pin: PIN }));
    const refreshToken = String(tokens.body.refresh_token);
    const clients = otherRp ? [rp, otherRp] : [rp];
    // Each process has served this grant before the revocation.
    for (const client of clients) {
      const refreshed = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal((await userinfo(client, refreshed.body.access_token)).status, 200);
    }
    assert.equal(await revokeConsent(server.db, TENANT, user.id, rp.clientId, user.id), 1);
    for (const client of clients) {
      const refresh = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(refresh.status, 400, `${client.issuer}: ${JSON.stringify(refresh.body)}`);
      assert.equal(refresh.body.error, 'invalid_grant');
      assert.equal((await userinfo(client, tokens.body.access_token)).status, 401, `${client.issuer}: the access token of a revoked grant`);
    }
  });

  test("deleting the user ends the user's access tokens and deletes them from the store", async () => {
    const user = await signedUpUser();
    const bystander = await signedUpUser();
    const tokens = await exchangeCode(rp, await authorize(rp, { username: user.username, pin: PIN }));
    const kept = await exchangeCode(rp, await authorize(rp, { username: bystander.username, pin: PIN }));
    const entry = (accessToken: unknown) => `oidc:${TENANT}:AccessToken:${server.dataKey.mac('oidc-id', String(accessToken))}`;
    assert.equal((await userinfo(rp, tokens.body.access_token)).status, 200);
    assert.notEqual(await kv.get(entry(tokens.body.access_token)), null);
    await deleteAccount({ db: server.db, kv: server.kv, dataKey: server.dataKey }, TENANT, user.id, 'test');
    assert.equal(await kv.get(entry(tokens.body.access_token)), null, "the user's access token entry is deleted");
    assert.notEqual(await kv.get(entry(kept.body.access_token)), null, "another user's stays");
    assert.equal((await userinfo(rp, tokens.body.access_token)).status, 401);
    const refresh = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    assert.equal(refresh.body.error, 'invalid_grant');
  });
});
