/**
 * Client metadata is cached in the provider process (clientCache.ts), yet an operator's change
 * applies at once: a `min_acr` floor set from another connection (as the CLI's process does)
 * binds the next authorization of a client the server already had in memory, and while the
 * server's notification connection is down nothing stale is served.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setClientMinAcr } from '../../src/account/clients.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';
import type { RunningServer } from '../../src/main.ts';
import { openDatabase, type Database } from '../../src/store/db.ts';
import type { FormDriver } from '../support/browser-less.ts';
import { startTestServer } from '../support/server.ts';
import type { TestDatabase } from '../support/services.ts';
import { authorize, pkceAuthorization, registerRp, REDIRECT, type Rp } from '../support/oidcFlow.ts';

const TENANT = 'default';
const USER = { username: 'erin', pin: '620417' };

let server: RunningServer;
/** Another handle on the same database, as a CLI process has (the server's own on PGlite). */
let operator: Database;

before(async () => {
  server = await startTestServer();
  const erin = await createUser(server.db, TENANT, { username: USER.username }, 'test');
  await setPin(server.db, TENANT, erin.id, USER.pin, 'test');
  const { url, dataKey } = server.db as TestDatabase;
  operator = url ? openDatabase({ url, dataKey }) : server.db;
});

after(async () => {
  if (operator !== server?.db) await operator?.close();
  await server?.close();
});

/** A silent authorization on the signed-in (loa 1, PIN) session: the code, or the error. */
async function silentAuthorization(rp: Rp, driver: FormDriver): Promise<{ code: string | null; error: string | null }> {
  const { url } = await pkceAuthorization(rp.config, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'none' }, { nonce: false });
  const res = await driver.get(url.toString());
  assert.ok(res.location?.startsWith(REDIRECT), `redirected to the client: ${res.location}`);
  const params = new URL(res.location!).searchParams;
  return { code: params.get('code'), error: params.get('error') };
}

/** What a silent authorization gets when the session's loa 1 is below the client's floor. */
const belowFloor = (r: { code: string | null; error: string | null }) => r.code === null && (r.error === 'login_required' || r.error === 'interaction_required');

/** Postgres delivers the change notification asynchronously: allow it a moment, never longer. */
async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<number> {
  const start = performance.now();
  for (let attempt = 1; ; attempt++) {
    if (await check()) return attempt;
    assert.ok(performance.now() - start < ms, `not applied within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cached client metadata', () => {
  test('a min_acr floor set from another connection binds the next authorization of a cached client', async () => {
    const rp = await registerRp(server, TENANT, 'Cached App');
    const { driver } = await authorize(rp, USER);
    // Served from memory from here on.
    assert.ok((await silentAuthorization(rp, driver)).code, 'a loa 1 session is enough without a floor');
    assert.ok((await silentAuthorization(rp, driver)).code);

    await setClientMinAcr(operator, TENANT, rp.clientId, 'urn:facegate:loa:2', 'test');
    const attempts = await eventually(async () => belowFloor(await silentAuthorization(rp, driver)));
    // On PGlite the notification comes with the COMMIT itself: the very next request sees it.
    if (operator === server.db) assert.equal(attempts, 1);

    await setClientMinAcr(operator, TENANT, rp.clientId, null, 'test');
    await eventually(async () => (await silentAuthorization(rp, driver)).code !== null);
  });

  test('while the notification connection is down, client metadata is read from the database', { skip: !process.env.DATABASE_URL && 'needs Postgres: PGlite has no connection to lose' }, async () => {
    const rp = await registerRp(server, TENANT, 'Cut Off App');
    const { driver } = await authorize(rp, USER);
    assert.ok((await silentAuthorization(rp, driver)).code);
    // Cut the server's LISTEN connection; it comes back after a second.
    const { rowCount } = await operator.asOwner((sql) =>
      sql.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN facegate_clients%' AND pid <> pg_backend_pid()"),
    );
    assert.equal(rowCount, 1, 'the server listens on one connection');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await silentAuthorization(rp, driver)).code, 'still served, from the database');
    // No notification can reach the server now: only not using memory keeps this exact.
    await setClientMinAcr(operator, TENANT, rp.clientId, 'urn:facegate:loa:2', 'test');
    const during = await silentAuthorization(rp, driver);
    assert.ok(belowFloor(during), JSON.stringify(during));
    // Listening again, the cache serves and stays exact.
    await new Promise((r) => setTimeout(r, 1500));
    await setClientMinAcr(operator, TENANT, rp.clientId, null, 'test');
    await eventually(async () => (await silentAuthorization(rp, driver)).code !== null);
  });
});
