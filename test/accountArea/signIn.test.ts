/**
 * Signing in to the account area through the tenant's own provider (code + PKCE from the
 * automatically registered account client): the session cookie's flags, no consent screen for
 * the first-party client, a callback that cannot be replayed or forged, a tampered cookie that is
 * no session, and signing out.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/server.ts';
import { FormDriver } from '../support/browser-less.ts';
import { accountPath, completeAccountSignIn, csrfOf, signInToAccount } from '../support/accountArea.ts';
import type { RunningServer } from '../../src/main.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';

const TENANT = 'default';
let server: RunningServer;

before(async () => {
  server = await startTestServer();
  const alice = await createUser(server.db, TENANT, { username: 'alice' }, 'test');
  await setPin(server.db, TENANT, alice.id, '482913', 'test');
});

after(async () => {
  await server?.close();
});

test('an unsigned visitor is sent to sign in at the tenant provider with PKCE, as the account client', async () => {
  const driver = new FormDriver(server.url);
  const first = await driver.get(accountPath(TENANT));
  assert.equal(first.status, 303);
  assert.equal(new URL(first.location!).pathname, `${accountPath(TENANT)}/login`);
  const login = await driver.get(first.location!);
  const auth = new URL(login.location!);
  assert.equal(auth.pathname, `/t/${TENANT}/auth`);
  assert.equal(auth.searchParams.get('client_id'), 'facegate-account');
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(auth.searchParams.get('redirect_uri'), `${server.url}${accountPath(TENANT)}/callback`);
  const cookie = driver.setCookieLines.find((l) => l.startsWith(`fg_account_login_${TENANT}=`));
  assert.ok(cookie, 'the pending sign-in is kept in a cookie');
  assert.match(cookie, /httponly/i);
  assert.match(cookie, /samesite=lax/i);
  assert.match(cookie, new RegExp(`path=${accountPath(TENANT)}`, 'i'));
});

test('signing in with a PIN lands on the account page, with no consent screen; the session cookie is HttpOnly, SameSite=Lax, sealed', async () => {
  const { driver, page } = await signInToAccount(server.url, TENANT, 'alice', '482913');
  assert.match(page.html, /Signed in as <strong>alice<\/strong>/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  const line = driver.setCookieLines.find((l) => l.startsWith(`fg_account_${TENANT}=`));
  assert.ok(line);
  assert.match(line, /httponly/i);
  assert.match(line, /samesite=lax/i);
  const value = driver.cookies.get(`fg_account_${TENANT}`)!;
  assert.ok(!value.includes('alice') && !Buffer.from(value.split(':').pop()!, 'base64url').toString('latin1').includes('sub'), 'the cookie is sealed, not readable');
});

test('a tampered session cookie is no session: back to sign in', async () => {
  const { driver } = await signInToAccount(server.url, TENANT, 'alice', '482913');
  const name = `fg_account_${TENANT}`;
  const value = driver.cookies.get(name)!;
  driver.cookies.set(name, value.slice(0, -4) + (value.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
  const page = await driver.get(accountPath(TENANT));
  assert.equal(page.status, 303);
  assert.match(page.location!, /\/account\/login/);
});

test('a callback is answered once: a replayed code (even with its pending sign-in restored) or a forged state signs nobody in', async () => {
  const driver = new FormDriver(server.url);
  const start = await driver.get(`${accountPath(TENANT)}/login`);
  const pendingCookie = `fg_account_login_${TENANT}`;
  const pending = driver.cookies.get(pendingCookie)!;
  let callback: string | undefined;
  const get = driver.get.bind(driver);
  driver.get = (url: string) => {
    if (url.includes('/account/callback')) callback ??= url;
    return get(url);
  };
  await completeAccountSignIn(driver, start, 'alice', '482913');
  assert.ok(callback);
  // The pending sign-in cookie is gone, so the same callback is refused…
  const again = await get(callback);
  assert.equal(again.status, 400);
  assert.match(again.html, /account.signin_expired/);
  // …and with it put back, the code has been used.
  driver.cookies.set(pendingCookie, pending);
  const replay = await get(callback);
  assert.equal(replay.status, 400);
  assert.match(replay.html, /account.signin_failed/);
  // Another browser's pending sign-in does not accept this state.
  const other = new FormDriver(server.url);
  await other.get(`${accountPath(TENANT)}/login`);
  const forged = await other.get(callback);
  assert.equal(forged.status, 400);
  assert.match(forged.html, /account.signin_expired/);
});

test('the same code in parallel callbacks (each with the pending sign-in) signs in exactly once', async () => {
  const driver = new FormDriver(server.url);
  const start = await driver.get(`${accountPath(TENANT)}/login`);
  const pending = driver.cookies.get(`fg_account_login_${TENANT}`)!;
  let callback: string | undefined;
  const get = driver.get.bind(driver);
  // Stop at the callback: the browser is stopped before it sends it.
  driver.get = (url: string) => {
    if (!url.includes('/account/callback')) return get(url);
    callback = url;
    return Promise.resolve({ status: 200, url, html: '<h1>Your account</h1>', headers: new Headers() });
  };
  await completeAccountSignIn(driver, start, 'alice', '482913');
  assert.ok(callback);
  const results = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const b = new FormDriver(server.url);
      b.cookies.set(`fg_account_login_${TENANT}`, pending);
      return (await b.get(callback!)).status;
    }),
  );
  assert.deepEqual(results.filter((s) => s === 303).length, 1, `statuses ${results}`);
  assert.ok(results.every((s) => s === 303 || s === 400), `statuses ${results}`);
});

test('a session whose user no longer exists ends: back to sign in, cookie cleared', async () => {
  const carol = await createUser(server.db, TENANT, { username: 'carol' }, 'test');
  await setPin(server.db, TENANT, carol.id, '582914', 'test');
  const { driver } = await signInToAccount(server.url, TENANT, 'carol', '582914');
  await server.db.asOwner((sql) => sql.query('DELETE FROM users WHERE tenant_id = $1 AND id = $2', [TENANT, carol.id]));
  const page = await driver.get(accountPath(TENANT));
  assert.equal(page.status, 303);
  assert.ok(!driver.cookies.has(`fg_account_${TENANT}`));
});

test('signing out needs the CSRF token and ends the account session', async () => {
  const { driver, page } = await signInToAccount(server.url, TENANT, 'alice', '482913');
  const forged = await driver.post(`${accountPath(TENANT)}/logout`, {});
  assert.equal(forged.status, 403);
  const out = await driver.post(`${accountPath(TENANT)}/logout`, { csrf: csrfOf(page.html) });
  assert.equal(out.status, 200);
  assert.match(out.html, /signed out of your account page/);
  const after = await driver.get(accountPath(TENANT));
  assert.equal(after.status, 303);
});
