/**
 * One attempt at a factor, through the lockout: refused while the factor is locked; a success
 * resets the failure count; a failure counts, and the failure that locks the factor is audited
 * before its RateLimitError (`factor.locked`) reaches the caller.
 */
import { lockoutPolicy, type AccountDeps } from './deps.ts';
import { assertNotLocked, recordFailure, recordSuccess, type Factor } from './lockout.ts';
import { auditLockout } from './signinAudit.ts';

export async function attemptFactor<T extends { ok: boolean } | boolean>(
  deps: AccountDeps,
  tenantId: string,
  lockSubject: string,
  userId: string | null,
  factor: Factor,
  check: () => Promise<T>,
): Promise<T> {
  const subject = { tenantId, subject: lockSubject, factor };
  await assertNotLocked(deps.kv, subject);
  const result = await check();
  if (typeof result === 'boolean' ? result : result.ok) {
    await recordSuccess(deps.kv, subject);
    return result;
  }
  try {
    await recordFailure(deps.kv, subject, lockoutPolicy(deps));
  } catch (e) {
    await auditLockout(deps.db, tenantId, userId, factor, e);
    throw e;
  }
  return result;
}
