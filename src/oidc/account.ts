/** oidc-provider's account lookup: the `sub` is the user id within the tenant. */
import type { Account } from 'oidc-provider';
import type { Database } from '../store/db.ts';
import { isUuid } from '../ids.ts';

export async function findAccount(db: Database, tenantId: string, sub: string): Promise<Account | undefined> {
  if (!isUuid(sub)) return undefined;
  const { rows } = await db.statement<{ id: string; username: string; email: string | null }>(
    tenantId,
    'SELECT id, username, email FROM users WHERE id = $1',
    [sub],
  );
  const user = rows[0];
  if (!user) return undefined;
  return {
    accountId: user.id,
    claims: () => ({ sub: user.id, preferred_username: user.username, ...(user.email ? { email: user.email } : {}) }),
  };
}
