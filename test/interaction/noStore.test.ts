/**
 * Every HTML page we render (login, factor, consent, our error page, oidc-provider's error page,
 * logout confirmation, signed-out page) carries `Cache-Control: no-store`: they hold CSRF tokens,
 * usernames and sign-in state that no browser or proxy cache may keep.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormDriver, type Page } from '../support/browser-less.ts';
import { pinSignIn } from '../support/pinSignIn.ts';
import { startTestServer } from '../support/server.ts';
import type { RunningServer } from '../../src/main.ts';
import { createClient } from '../../src/account/clients.ts';
import { createUser } from '../../src/account/users.ts';
import { setPin } from '../../src/account/pin.ts';

const REDIRECT = 'http://127.0.0.1:1/callback';

let server: RunningServer;
let clientId: string;

before(async () => {
  server = await startTestServer();
  const alice = await createUser(server.db, 'default', { username: 'alice' }, 'test');
  await setPin(server.db, 'default', alice.id, '482913', 'test');
  ({ clientId } = await createClient(server, 'default', { redirectUris: [REDIRECT], public: true }, 'test'));
});

after(async () => {
  await server?.close();
});

function assertNoStore(page: Page, what: string) {
  assert.match(page.headers.get('content-type') ?? '', /text\/html/, what);
  assert.equal(page.headers.get('cache-control'), 'no-store', `${what} (${page.status} ${page.url})`);
}

describe('rendered pages are never cached', () => {
  test('login, factor and consent pages, then logout confirmation and signed-out page', async () => {
    const driver = new FormDriver(server.url);
    const url = new URL(`${server.url}/t/default/auth`);
    url.search = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' }).toString();
    const { pages } = await pinSignIn(driver, url, REDIRECT, 'alice', '482913');
    assert.deepEqual(pages.map((p) => /action="[^"]+\/(identify|pin|consent)"/.exec(p.html)?.[1]), ['identify', 'pin', 'consent']);
    for (const [i, page] of pages.entries()) assertNoStore(page, `sign-in page ${i}`);

    const confirm = await driver.follow(await driver.get(`${server.url}/t/default/session/end`));
    assert.match(confirm.html, /Sign out\?/);
    assertNoStore(confirm, 'logout confirmation');
    const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(confirm.html)!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form[2])![1];
    const done = await driver.follow(await driver.post(form[1], { xsrf, logout: 'yes' }));
    assert.equal(done.status, 200);
    assertNoStore(done, 'signed-out page');
  });

  test("our error page and oidc-provider's error page", async () => {
    const driver = new FormDriver(server.url);
    const ours = await driver.get(`${server.url}/t/default/interaction/no-such-interaction`);
    assert.equal(ours.status, 400);
    assertNoStore(ours, 'our error page');
    const theirs = await driver.get(`${server.url}/t/default/auth?client_id=nope&response_type=code&scope=openid`);
    assert.equal(theirs.status, 400);
    assert.match(theirs.html, /invalid_client/);
    assertNoStore(theirs, "oidc-provider's error page");
    const notFound = await driver.get(`${server.url}/no/such/page`);
    assert.equal(notFound.status, 404);
    assertNoStore(notFound, 'not found page');
  });
});
