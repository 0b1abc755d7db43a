/**
 * Authorization codes live in the key-value store (adapter.ts), not the database. There too a
 * reader of the store finds neither a code nor its payload in clear, and revoking the grant
 * (here: the RP revokes an access token of it) revokes its codes still outstanding: in a token
 * request that is checked when the code is consumed, elsewhere also when it is read.
 * Parallel single use is tested in singleUse.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import type { RunningServer } from '../../src/main.ts';
import type { AdapterPayload } from 'oidc-provider';
import { adapterFactory } from '../../src/oidc/adapter.ts';
import { startTestServer } from '../support/server.ts';
import { freshKeyValueStore } from '../support/services.ts';
import { recordingStore } from '../support/storeDump.ts';
import { authorize, exchangeCode, registerRp, type Rp } from '../support/oidcFlow.ts';

const TENANT = 'default';
const USER = { username: 'fay', pin: '730195' };

let server: RunningServer;
let kv: ReturnType<typeof recordingStore>;
let rp: Rp;

before(async () => {
  kv = recordingStore(freshKeyValueStore());
  server = await startTestServer({}, { kv });
  const fay = await createUser(server.db, TENANT, { username: USER.username }, 'test');
  await setPin(server.db, TENANT, fay.id, USER.pin, 'test');
  rp = await registerRp(server, TENANT, 'Code App');
});

after(async () => {
  await server?.close();
});

test('codes are stored hashed and sealed in the key-value store, not in the database', async () => {
  const authorized = await authorize(rp, USER);
  const tokens = await exchangeCode(rp, authorized);
  assert.equal(tokens.status, 200);
  const rows = await server.db.asOwner((sql) => sql.query("SELECT 1 FROM oidc_payloads WHERE model = 'AuthorizationCode'"));
  assert.equal(rows.rowCount, 0, 'no code rows in the database');
  const codeWrites = kv.written.filter((w) => w.where.includes(':AuthorizationCode:'));
  assert.ok(codeWrites.length >= 2, 'the code and its consumed marker were written to the store');
  const leaked = kv.written.filter((w) => (w.text ?? '').includes(authorized.code) || (w.text ?? '').includes(authorized.verifier));
  assert.deepEqual(leaked.map((w) => w.where), [], 'the code in clear in the store');
  assert.ok(!codeWrites.some((w) => (w.text ?? '').includes('"accountId"')), 'payloads are sealed');
});

test("revoking an access token revokes its grant's outstanding codes", async () => {
  const first = await authorize(rp, USER);
  // A second code of the same grant, silently, on the same session.
  const outstanding = await authorize(rp, USER, { driver: first.driver, prompt: 'none', scope: 'openid' });
  const tokens = await exchangeCode(rp, first);
  assert.equal(tokens.status, 200);
  const revoked = await fetch(`${rp.issuer}/token/revocation`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(rp.clientId)}:${encodeURIComponent(rp.clientSecret!)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.body.access_token as string, token_type_hint: 'access_token' }),
  });
  assert.equal(revoked.status, 200);
  const late = await exchangeCode(rp, outstanding);
  assert.equal(late.status, 400, JSON.stringify(late.body));
  assert.equal(late.body.error, 'invalid_grant');
});

test('outside a token request a code of a revoked grant is neither found nor consumed, and a code is consumed once', async () => {
  const Adapter = adapterFactory(server.db, server.dataKey, TENANT, { kv });
  const codes = new Adapter('AuthorizationCode');
  const payload = (grantId: string): AdapterPayload => ({ kind: 'AuthorizationCode', grantId, clientId: rp.clientId });
  await codes.upsert('code-of-revoked-grant', payload('grant-revoked'), 60);
  await codes.upsert('code-of-live-grant', payload('grant-live'), 60);
  await codes.revokeByGrantId('grant-revoked');
  assert.equal(await codes.find('code-of-revoked-grant'), undefined, 'not found once its grant is revoked');
  await assert.rejects(codes.consume('code-of-revoked-grant'), { error: 'invalid_grant' }, 'nor consumed');
  await codes.consume('code-of-live-grant');
  await assert.rejects(codes.consume('code-of-live-grant'), { error: 'invalid_grant' }, 'consumed once');
  assert.ok(Number((await codes.find('code-of-live-grant'))?.consumed) > 0, 'found as consumed');
});
