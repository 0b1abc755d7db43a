/**
 * What every account-area route needs for one tenant: the signed-in user (or a redirect to sign
 * in), the CSRF check of a posted form, the recent-sign-in gate of sensitive actions (else a
 * re-authentication round trip that comes back to the action's confirmation page), rendering
 * and auditing.
 */
import type { Context } from 'koa';
import { findUserById, type User } from '../account/users.ts';
import { appendAudit } from '../audit/log.ts';
import type { FaceServices } from '../faceLogin/faceServices.ts';
import { readForm } from '../interaction/body.ts';
import { sendPage, type Views } from '../interaction/views.ts';
import type { Database } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import type { KeyValueStore } from '../store/kv.ts';
import { sessionCookies, type AccountSession } from './session.ts';

export type AccountAreaDeps = { db: Database; kv: KeyValueStore; dataKey: DataKey; views: Views; cookieKeys: string[]; publicUrl: string; face?: FaceServices; now?: () => number };

export type SignedIn = { session: AccountSession; user: User };

/** A redirect out of a handler (sign in first, sign in again), thrown so handlers stay linear. */
export class Redirect extends Error {
  readonly location: string;
  constructor(location: string) {
    super('redirect');
    this.location = location;
  }
}

export type AccountKit = ReturnType<typeof accountKit>;

export function accountKit(tenantId: string, deps: AccountAreaDeps) {
  const prefix = `/t/${tenantId}/account`;
  const cookies = sessionCookies({ tenantId, dataKey: deps.dataKey, cookieKeys: deps.cookieKeys, secure: deps.publicUrl.startsWith('https:'), now: deps.now });

  const signInUrl = (returnTo: string, reauth = false) => `${prefix}/login?${new URLSearchParams({ return: returnTo, ...(reauth ? { reauth: '1' } : {}) })}`;

  /** The signed-in user; otherwise a redirect to sign in (and back to this page for a GET). */
  async function signedIn(ctx: Context): Promise<SignedIn> {
    const session = cookies.current(ctx);
    const user = session && (await findUserById(deps.db, tenantId, session.sub));
    if (!session || !user) {
      // A deleted account's session ends here.
      if (session) cookies.end(ctx);
      throw new Redirect(signInUrl(ctx.method === 'GET' ? ctx.path : prefix));
    }
    return { session, user };
  }

  /** The posted form of a signed-in user, CSRF-checked (403 `request.csrf`). */
  async function posted(ctx: Context): Promise<SignedIn & { form: Record<string, string> }> {
    const who = await signedIn(ctx);
    const form = await readForm(ctx);
    cookies.assertCsrf(who.session, form.csrf);
    return { ...who, form };
  }

  /**
   * Lets a sensitive action run only after a sign-in at most 5 minutes old; otherwise sends the
   * user to sign in again (prompt=login, max_age=0), then to this action's confirmation page.
   */
  function requireRecent(who: SignedIn, action: string, id?: string): void {
    if (cookies.isRecent(who.session)) return;
    throw new Redirect(signInUrl(`${prefix}/confirm/${action}${id ? `?${new URLSearchParams({ id })}` : ''}`, true));
  }

  async function render(ctx: Context, view: string, who: SignedIn | undefined, data: Record<string, unknown>, status = 200) {
    ctx.status = status;
    await sendPage(ctx, deps.views, `account/${view}`, {
      prefix,
      username: who?.user.username ?? '',
      csrf: who ? cookies.csrf(who.session) : '',
      notice: '',
      ...data,
    });
  }

  /** Back to the overview, with a one-word notice the page turns into a sentence. */
  function done(ctx: Context, notice: string, anchor = '') {
    ctx.status = 303;
    ctx.redirect(`${prefix}?done=${encodeURIComponent(notice)}${anchor ? `#${anchor}` : ''}`);
  }

  async function audit(type: string, userId: string, data?: Record<string, unknown>) {
    await deps.db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type, actor: userId, subject: userId, data }));
  }

  return { tenantId, deps, prefix, cookies, signInUrl, signedIn, posted, requireRecent, render, done, audit };
}
