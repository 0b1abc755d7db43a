/**
 * A PIN sign-in through the provider's own forms, from an authorization URL to the client's
 * callback: login, PIN, "Not now" when face sign-in is offered (a deployment with passkeys), and
 * (when asked) consent. Returns the pages shown on the way.
 */
import assert from 'node:assert/strict';
import { FormDriver, formOf, type Page } from './browser-less.ts';

export async function pinSignIn(driver: FormDriver, authorizationUrl: URL, redirectUri: string, username: string, pin: string): Promise<{ callback: URL; pages: Page[] }> {
  const pages: Page[] = [];
  let page = await driver.follow(await driver.get(authorizationUrl.toString()));
  pages.push(page);
  const identify = formOf(page.html, '/identify');
  page = await driver.post(identify.action, { ...identify.fields, username });
  pages.push(page);
  const factor = formOf(page.html, '/pin');
  page = await driver.follow(await driver.post(factor.action, { ...factor.fields, pin }));
  if (page.html.includes('/enroll/skip"')) {
    pages.push(page);
    const notNow = formOf(page.html, '/enroll/skip');
    page = await driver.follow(await driver.post(notNow.action, notNow.fields));
  }
  if (!page.location?.startsWith(redirectUri)) {
    pages.push(page);
    const consent = formOf(page.html, '/consent');
    page = await driver.follow(await driver.post(consent.action, consent.fields));
  }
  assert.ok(page.location?.startsWith(redirectUri), `back at the client: ${page.status} ${page.location ?? page.html.slice(0, 500)}`);
  return { callback: new URL(page.location!), pages };
}
