/**
 * What the face step's HTTP tests share: webcam-like frame bursts from ../shared/faces photos,
 * the capture page's data attributes (what faceCapture.js reads), JSON calls through a
 * FormDriver's cookie jar, as the page's script makes them, and the authorization's own steps.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as oidc from 'openid-client';
import type { RunningServer } from '../../src/main.ts';
import { FormDriver, formOf, type Page } from './browser-less.ts';
import { pkceAuthorization, REDIRECT } from './oidcFlow.ts';
import { FACES_DIR } from './shared.ts';

/** Webcam-like JPEG frames from one photo: 96 % crops shifted by a few pixels, 640 px wide. */
export async function burstFrom(photo: string, shifts = [[0, 0], [6, 3], [-5, 4]]): Promise<Buffer[]> {
  const upright = await sharp(readFileSync(path.join(FACES_DIR, photo))).rotate().toBuffer();
  const { width = 0, height = 0 } = await sharp(upright).metadata();
  const cw = Math.round(width * 0.96);
  const ch = Math.round(height * 0.96);
  return Promise.all(
    shifts.map(([dx, dy]) => {
      const left = Math.max(0, Math.min(width - cw, Math.round((width - cw) / 2 + dx)));
      const top = Math.max(0, Math.min(height - ch, Math.round((height - ch) / 2 + dy)));
      return sharp(upright).extract({ left, top, width: cw, height: ch }).resize({ width: 640, height: 640, fit: 'inside' }).jpeg({ quality: 90 }).toBuffer();
    }),
  );
}

/** The face page's data attributes (what faceCapture.js reads). */
export function faceStep(html: string): Record<string, string> {
  const div = /<div id="face-step"([^>]*)>/.exec(html);
  assert.ok(div, `a face capture page: ${html.slice(0, 600)}`);
  const data: Record<string, string> = {};
  for (const m of div[1].matchAll(/data-([a-z-]+)="([^"]*)"/g)) data[m[1]] = m[2].replace(/&amp;/g, '&');
  return data;
}

export type Json = { status: number; body: Record<string, unknown>; headers: Headers };

export async function postJson(driver: FormDriver, url: string, body: unknown, contentType = 'application/json'): Promise<Json> {
  const page = await driver.request(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': contentType, accept: 'application/json' },
  });
  return { status: page.status, body: JSON.parse(page.html) as Record<string, unknown>, headers: page.headers };
}

export const b64u = (frame: Uint8Array) => Buffer.from(frame).toString('base64url');

/** An authorization under way in one browser (its cookie jar), with what the client keeps to redeem the code. */
export type Started = { driver: FormDriver; page: Page; verifier: string; nonce: string; state: string };

/**
 * The browser-side steps of an authorization at `rp` against the server `world()` returns (read
 * when called, so a test file can build them before its `before` hook starts the server):
 * authorize, identify, PIN, consent if asked, the code exchange, and the audit rows of a type.
 */
export function faceFlow(world: () => { server: RunningServer; rp: oidc.Configuration; tenant: string; pin: string }) {
  async function authorize(extra: Record<string, string> = {}, driver = new FormDriver(world().server.url)): Promise<Started> {
    const { url, verifier, nonce, state } = await pkceAuthorization(world().rp, { redirect_uri: REDIRECT, scope: 'openid', ...extra });
    return { driver, page: await driver.follow(await driver.get(url.toString())), verifier, nonce: nonce!, state };
  }

  /** Username-first: identify, and get the PIN page (which offers the face next to it). */
  async function identify(started: Started, username: string): Promise<Page> {
    const form = formOf(started.page.html, '/identify');
    return started.driver.post(form.action, { ...form.fields, username });
  }

  async function signInWithPin(started: Started, username: string): Promise<Page> {
    const pinPage = await identify(started, username);
    const pin = formOf(pinPage.html, '/pin');
    return started.driver.post(pin.action, { ...pin.fields, pin: world().pin });
  }

  /** Allows the client's consent screen if shown, and returns where the browser lands back at the RP. */
  async function toRedirect(started: Started, page: Page): Promise<URL> {
    let current = await started.driver.follow(page);
    if (current.html.includes('/consent"')) {
      const consent = formOf(current.html, '/consent');
      current = await started.driver.follow(await started.driver.post(consent.action, consent.fields));
    }
    assert.ok(current.location?.startsWith(REDIRECT), `back at the RP: ${current.status} ${current.location ?? current.html.slice(0, 600)}`);
    return new URL(current.location!);
  }

  async function exchange(started: Started, back: URL) {
    const tokens = await oidc.authorizationCodeGrant(world().rp, back, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state, idTokenExpected: true });
    return tokens.claims()!;
  }

  /** The page a JSON answer's `redirect` stands for, to follow like a 303. */
  const redirectOf = (answer: Json): Page => ({ status: 303, url: '', location: new URL(answer.body.redirect as string, world().server.url).toString(), html: '', headers: new Headers() });

  async function auditRows(type: string): Promise<{ subject: string; data: Record<string, unknown> }[]> {
    const { server, tenant } = world();
    const { rows } = await server.db.withTenant(tenant, (sql) =>
      sql.query<{ subject: string; data: Record<string, unknown> }>('SELECT subject, data FROM audit_events WHERE type = $1 ORDER BY seq', [type]),
    );
    return rows;
  }

  return { authorize, identify, signInWithPin, toRedirect, exchange, redirectOf, auditRows };
}
