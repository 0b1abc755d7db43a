/**
 * The account area's own session: a cookie sealed with the data key (AES-GCM, bound to the
 * tenant), HttpOnly, SameSite=Lax, Secure on https, scoped to `/t/<tenant>/account`. It says who
 * signed in (the ID token's `sub`) and when (`auth_time`), which decides whether a sensitive
 * action may run without signing in again. A second short cookie carries one sign-in round trip
 * (state, nonce, PKCE verifier, where to return). Neither is readable or forgeable by the client.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { DataKey } from '../store/dataKey.ts';
import { assertCsrf, csrfToken } from '../interaction/csrf.ts';

/** An account-area session lasts 30 minutes after signing in; the provider's own session makes signing in again one click. */
export const SESSION_TTL_MS = 30 * 60 * 1000;
/** Deleting data, removing a device or changing the PIN needs a sign-in at most 5 minutes old (issue 10). */
export const RECENT_AUTH_S = 5 * 60;
/** One sign-in round trip must come back within 10 minutes (the provider's interaction lasts 15). */
const LOGIN_TTL_MS = 10 * 60 * 1000;

export type AccountSession = { sub: string; authTime: number; sid: string; exp: number };
export type PendingSignIn = { state: string; nonce: string; verifier: string; returnTo: string; exp: number };

export type SessionCookies = ReturnType<typeof sessionCookies>;

export function sessionCookies(opts: { tenantId: string; dataKey: DataKey; cookieKeys: string[]; secure: boolean; now?: () => number }) {
  const { tenantId, dataKey, cookieKeys, secure } = opts;
  const now = opts.now ?? Date.now;
  const path = `/t/${tenantId}/account`;
  const names = { session: `fg_account_${tenantId}`, login: `fg_account_login_${tenantId}` };
  const flags = { httpOnly: true, sameSite: 'lax' as const, secure, path, overwrite: true, signed: false };

  function write(ctx: Context, name: string, value: object, ttlMs: number) {
    ctx.cookies.set(name, dataKey.seal(JSON.stringify(value), `${name}:${tenantId}`), { ...flags, maxAge: ttlMs });
  }

  /** The cookie's value if it opens and has not expired; a tampered or stale cookie is no cookie. */
  function read<T extends { exp: number }>(ctx: Context, name: string): T | undefined {
    const raw = ctx.cookies.get(name);
    if (!raw || raw.length > 4096) return undefined;
    try {
      const value = JSON.parse(dataKey.open(raw, `${name}:${tenantId}`).toString('utf8')) as T;
      return typeof value.exp === 'number' && value.exp > now() ? value : undefined;
    } catch {
      return undefined;
    }
  }

  const clear = (ctx: Context, name: string) => ctx.cookies.set(name, null, { ...flags, maxAge: 0 });

  return {
    path,
    current: (ctx: Context) => read<AccountSession>(ctx, names.session),
    start(ctx: Context, sub: string, authTime: number): AccountSession {
      const session = { sub, authTime, sid: randomBytes(16).toString('base64url'), exp: now() + SESSION_TTL_MS };
      write(ctx, names.session, session, SESSION_TTL_MS);
      return session;
    },
    end: (ctx: Context) => clear(ctx, names.session),
    beginSignIn(ctx: Context, pending: Omit<PendingSignIn, 'exp'>) {
      write(ctx, names.login, { ...pending, exp: now() + LOGIN_TTL_MS }, LOGIN_TTL_MS);
    },
    /** The pending sign-in, removed: a callback can be answered once. */
    takeSignIn(ctx: Context): PendingSignIn | undefined {
      const pending = read<PendingSignIn>(ctx, names.login);
      clear(ctx, names.login);
      return pending;
    },
    /** Whether the session's sign-in is recent enough for a sensitive action. */
    isRecent: (session: AccountSession) => Math.floor(now() / 1000) - session.authTime <= RECENT_AUTH_S,
    csrf: (session: AccountSession) => csrfToken(cookieKeys[0], `account:${tenantId}:${session.sid}`),
    assertCsrf: (session: AccountSession, token: string | undefined) => assertCsrf(cookieKeys, `account:${tenantId}:${session.sid}`, token),
  };
}
