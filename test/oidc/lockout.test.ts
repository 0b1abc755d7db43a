/**
 * The PIN lockout under a parallel attack over HTTP: each guess on its own interaction (its
 * own cookies and CSRF token), all sent at once, against a running provider.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { FormDriver, formOf, type Page } from '../support/browser-less.ts';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';

const TENANT = 'default';
const REDIRECT = 'http://127.0.0.1:1/callback';
const PIN = '482913';
const BURST = 20;

let server: RunningServer;
let rp: oidc.Configuration;
let userId: string;

before(async () => {
  server = await startTestServer();
  userId = (await createUser(server.db, TENANT, { username: 'mallory-target' }, 'test')).id;
  await setPin(server.db, TENANT, userId, PIN, 'test');
  const created = await createClient(server, TENANT, { name: 'Demo App', redirectUris: [REDIRECT], grantTypes: ['authorization_code'], public: false }, 'test');
  rp = await oidc.discovery(new URL(`${server.url}/t/${TENANT}`), created.clientId, created.clientSecret!, undefined, { execute: [oidc.allowInsecureRequests] });
});

after(async () => {
  await server?.close();
});

/** A new browser that starts an authorization and names the user: it holds a PIN form. */
async function pinForm(): Promise<{ driver: FormDriver; form: ReturnType<typeof formOf> }> {
  const driver = new FormDriver(server.url);
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const login = await driver.follow(await driver.get(url.toString()));
  const identify = formOf(login.html, '/identify');
  const page = await driver.post(identify.action, { ...identify.fields, username: 'mallory-target' });
  return { driver, form: formOf(page.html, '/pin') };
}

test(`${BURST} wrong PINs at once, each on its own interaction: at most 5 are evaluated, then the right PIN gets 429`, async (t) => {
  const browsers = await Promise.all(Array.from({ length: BURST }, () => pinForm()));
  const pages: Page[] = await Promise.all(browsers.map(({ driver, form }) => driver.post(form.action, { ...form.fields, pin: '111222' })));
  const statuses = pages.map((p) => p.status);
  const { rows } = await server.db.withTenant(TENANT, (sql) =>
    sql.query<{ type: string; reason: string | null }>("SELECT type, data->>'reason' AS reason FROM audit_events WHERE subject = $1", [userId]),
  );
  // An evaluated guess is audited as a wrong PIN, or (the one that locks) as the lock.
  const locks = rows.filter((r) => r.type === 'factor.locked').length;
  const evaluated = rows.filter((r) => r.type === 'signin.failure' && r.reason === 'invalid_credentials').length + locks;
  t.diagnostic(`${evaluated} of ${BURST} parallel wrong PINs evaluated over HTTP`);
  assert.ok(evaluated <= 5, `${evaluated} evaluated`);
  assert.equal(locks, 1, 'the lockout is audited once');
  assert.equal(statuses.filter((s) => s === 401).length, evaluated - 1);
  assert.equal(statuses.filter((s) => s === 429).length, BURST - evaluated + 1);

  const { driver, form } = await pinForm();
  const right = await driver.post(form.action, { ...form.fields, pin: PIN });
  assert.equal(right.status, 429, 'the right PIN is refused while the PIN is locked');
  assert.ok(Number(right.headers.get('retry-after')) > 14 * 60, `Retry-After ${right.headers.get('retry-after')}`);
  assert.match(right.html, /locked/);
});
