/**
 * oidc-provider's account lookup: the `sub` is the user id within the tenant. A token request
 * takes the user row whose read started when its refresh token or code was found (adapter.ts
 * readAhead, requestReads.ts) instead of reading it again.
 */
import type { Account } from 'oidc-provider';
import type { Database } from '../store/db.ts';
import { isUuid } from '../ids.ts';
import { takeFromRequest } from './requestReads.ts';

export type AccountRow = { id: string; username: string; email: string | null };

/** Where a user row read ahead for this request is kept (requestReads.ts). */
export const accountReadKey = (tenantId: string, sub: string) => `Account:${tenantId}:${sub}`;

/** The user row of `id` (a UUID), or null. */
export async function readAccountRow(db: Database, tenantId: string, id: string): Promise<AccountRow | null> {
  const { rows } = await db.statement<AccountRow>(tenantId, 'SELECT id, username, email FROM users WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function findAccount(db: Database, tenantId: string, sub: string): Promise<Account | undefined> {
  if (!isUuid(sub)) return undefined;
  const kept = takeFromRequest<Promise<AccountRow | null>>(accountReadKey(tenantId, sub));
  const user = await (kept ?? readAccountRow(db, tenantId, sub));
  if (!user) return undefined;
  const { id, username, email } = user;
  return {
    accountId: id,
    claims: () => ({ sub: id, preferred_username: username, ...(email ? { email } : {}) }),
  };
}
