/**
 * What a database reader gets: after a full flow (clients created, a PIN and a TOTP user signed
 * in, codes exchanged, refresh tokens used and rotated, consent given, userinfo read), a text
 * dump of every table holds none of the provider's secrets or bearer values: no TOTP seed, no
 * private signing key parameter, no client or resource-server secret, access or refresh token, authorization
 * code, session id or interaction uid (finished ones are deleted; a pending one is checked).
 * Tokens and consents still work from what is stored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScureBase32Plugin } from 'otplib';
import * as oidc from 'openid-client';
import { FormDriver } from '../support/browser-less.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/account/totp.ts';
import { listConsents } from '../../src/account/consents.ts';
import { createResourceServer } from '../../src/account/resourceServers.ts';
import { loadSigningKeys } from '../../src/oidc/keys.ts';
import type { RunningServer } from '../../src/main.ts';
import { generate as totpGenerate } from '../support/totp.ts';
import { startTestServer } from '../support/server.ts';
import { authorize, exchangeCode, REDIRECT, registerRp, tokenRequest, type Authorized, type Rp } from '../support/oidcFlow.ts';

const TENANT = 'default';
const ALICE = { username: 'alice', pin: '482913' };

let server: RunningServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

/** Every row of every table in the public schema, as text, read as the owner (past RLS). */
async function dumpDatabase(): Promise<string> {
  return server.db.asOwner(async (sql) => {
    const { rows: tables } = await sql.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    assert.ok(tables.length >= 8, `tables found: ${tables.map((t) => t.name).join(', ')}`);
    const parts: string[] = [];
    for (const { name } of tables) {
      const { rows } = await sql.query<{ row: string }>(`SELECT t::text AS row FROM "${name.replace(/"/g, '""')}" t`);
      parts.push(`-- ${name}`, ...rows.map((r) => r.row));
    }
    return parts.join('\n');
  });
}

/** The textual forms bytes could take in a dump: hex (bytea), base64, base64url. */
function byteForms(bytes: Buffer): string[] {
  return [bytes.toString('hex'), bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')];
}

test('a dump of every table after a full flow holds no secret and no bearer value', async () => {
  const secrets = new Map<string, string>();
  const keep = (label: string, value: unknown) => {
    assert.equal(typeof value, 'string', `${label} is a string`);
    assert.ok((value as string).length >= 16, `${label} is long enough to search for`);
    secrets.set(label, value as string);
  };

  const alice = await createUser(server.db, TENANT, { username: ALICE.username }, 'test');
  await setPin(server.db, TENANT, alice.id, ALICE.pin, 'test');
  const bob = await createUser(server.db, TENANT, { username: 'bob' }, 'test');
  const deps = { db: server.db, kv: server.kv, dataKey: server.dataKey };
  const { secret: seed } = await beginTotpEnrollment(deps, TENANT, bob.id);
  await confirmTotpEnrollment(deps, TENANT, bob.id, await totpGenerate(seed, -1));
  keep('TOTP seed (base32)', seed);
  byteForms(Buffer.from(new ScureBase32Plugin().decode(seed))).forEach((form, i) => keep(`TOTP seed bytes #${i}`, form));

  const rp: Rp = await registerRp(server, TENANT, 'Demo App');
  const spa: Rp = await registerRp(server, TENANT, 'Demo SPA', { public: true });
  keep('client secret', rp.clientSecret);
  const api = await createResourceServer(server, TENANT, { uri: 'https://api.example.com', tokenFormat: 'opaque' }, 'test');
  keep('resource server credential', api.clientSecret);

  const flows: Array<{ rp: Rp; authorized: Authorized }> = [
    { rp, authorized: await authorize(rp, ALICE) },
    { rp, authorized: await authorize(rp, { username: 'bob', totp: () => totpGenerate(seed) }) },
    { rp: spa, authorized: await authorize(spa, ALICE) },
  ];
  for (const [i, { rp: client, authorized }] of flows.entries()) {
    keep(`authorization code #${i}`, authorized.code);
    authorized.interactionUids.forEach((uid, j) => keep(`interaction uid #${i}.${j}`, uid));
    assert.ok(authorized.interactionUids.length > 0, 'the flow went through an interaction');
    const session = authorized.driver.cookies.get(`fg_session_${TENANT}`);
    keep(`session id #${i}`, session);

    const tokens = await exchangeCode(client, authorized);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    keep(`access token #${i}`, tokens.body.access_token);
    keep(`refresh token #${i}`, tokens.body.refresh_token);
    const refreshed = await tokenRequest(client, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    keep(`refreshed access token #${i}`, refreshed.body.access_token);
    keep(`refresh token after refresh #${i}`, refreshed.body.refresh_token);
    const userinfo = await fetch(`${client.issuer}/me`, { headers: { authorization: `Bearer ${refreshed.body.access_token}` } });
    assert.equal(userinfo.status, 200, 'the stored (hashed, sealed) access token still works');
  }
  // A finished interaction is deleted; one left waiting at the login form stays stored.
  const browser = new FormDriver(server.url);
  const pending = await browser.follow(await browser.get(
    oidc.buildAuthorizationUrl(rp.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString(),
  ));
  keep('pending interaction uid', /\/interaction\/([^/?"]+)/.exec(pending.url)?.[1]);
  assert.notEqual(secrets.get('refresh token #2'), secrets.get('refresh token after refresh #2'), 'the public client rotated its refresh token');

  for (const key of await loadSigningKeys(server.db, server.dataKey, TENANT)) {
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
      keep(`signing key ${key.kid} ${member}`, key[member]);
      byteForms(Buffer.from(key[member] as string, 'base64url')).forEach((form, i) => keep(`signing key ${key.kid} ${member} #${i}`, form));
    }
  }

  assert.deepEqual((await listConsents(server.db, TENANT, alice.id)).map((c) => c.clientId).sort(), [rp.clientId, spa.clientId].sort(), 'consents are read from what is stored');

  const dump = await dumpDatabase();
  assert.ok(dump.includes(rp.clientId) && dump.includes(alice.id), 'the dump holds the rows');
  const found = [...secrets].filter(([, value]) => dump.includes(value)).map(([label]) => label);
  assert.deepEqual(found, [], 'secrets and bearer values found in the database dump');
});
