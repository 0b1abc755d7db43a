/**
 * oidc-provider's account lookup: the `sub` is the user id within the tenant. A token request
 * finds the user row already read with its refresh token or code (requestReads.ts) and does not
 * read it again.
 */
import type { Account } from 'oidc-provider';
import type { Database } from '../store/db.ts';
import { isUuid } from '../ids.ts';
import { takeFromRequest } from './requestReads.ts';

export type AccountRow = { id: string; username: string; email: string | null };

/** Where a user row read ahead for this request is kept (requestReads.ts). */
export const accountReadKey = (tenantId: string, sub: string) => `Account:${tenantId}:${sub}`;

export async function findAccount(db: Database, tenantId: string, sub: string): Promise<Account | undefined> {
  if (!isUuid(sub)) return undefined;
  let user = takeFromRequest<AccountRow>(accountReadKey(tenantId, sub));
  if (user === undefined) {
    const { rows } = await db.statement<AccountRow>(tenantId, 'SELECT id, username, email FROM users WHERE id = $1', [sub]);
    user = rows[0] ?? null;
  }
  if (!user) return undefined;
  const { id, username, email } = user;
  return {
    accountId: id,
    claims: () => ({ sub: id, preferred_username: username, ...(email ? { email } : {}) }),
  };
}
