/**
 * Signing in to the account area (`/t/<tenant>/account`) over plain HTTP with a PIN, through the
 * tenant's own provider: the account page, its redirect to /auth, identify, PIN, "Not now" when
 * face sign-in is offered, the callback. Also a session cookie forged with the server's data key,
 * for tests that need a sign-in older than the 5 minutes sensitive actions allow.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DataKey } from '../../src/store/dataKey.ts';
import { FormDriver, formOf, type Page } from './browser-less.ts';

export const accountPath = (tenant: string) => `/t/${tenant}/account`;

/** Follows a sign-in started at `start` (a redirect into the provider) back to the account area. */
export async function completeAccountSignIn(driver: FormDriver, start: Page, username: string, pin: string): Promise<Page> {
  let page = await driver.follow(start);
  if (page.html.includes('/identify"')) {
    const identify = formOf(page.html, '/identify');
    page = await driver.post(identify.action, { ...identify.fields, username });
  }
  const factor = formOf(page.html, '/pin');
  page = await driver.follow(await driver.post(factor.action, { ...factor.fields, pin }));
  if (page.html.includes('/enroll/skip"')) {
    const notNow = formOf(page.html, '/enroll/skip');
    page = await driver.follow(await driver.post(notNow.action, notNow.fields));
  }
  assert.equal(page.status, 200, `an account page: ${page.status} ${page.location ?? page.html.slice(0, 400)}`);
  return page;
}

/** A fresh browser signed in to the account area; returns it with the overview page. */
export async function signInToAccount(base: string, tenant: string, username: string, pin: string, driver = new FormDriver(base)) {
  const page = await completeAccountSignIn(driver, await driver.get(accountPath(tenant)), username, pin);
  assert.match(page.html, /<h1>Your account<\/h1>/);
  return { driver, page };
}

/** The CSRF token of the page's forms. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'a CSRF token on the page');
  return m[1];
}

/** Puts an account-area session for `sub` signed in `ageSeconds` ago into `driver`'s jar. */
export function forgeSession(driver: FormDriver, dataKey: DataKey, tenant: string, sub: string, ageSeconds: number): void {
  const name = `fg_account_${tenant}`;
  const now = Date.now();
  const session = { sub, authTime: Math.floor(now / 1000) - ageSeconds, sid: randomBytes(16).toString('base64url'), exp: now + 10 * 60_000 };
  driver.cookies.set(name, dataKey.seal(JSON.stringify(session), `${name}:${tenant}`));
}
