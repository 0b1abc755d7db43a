/**
 * Sign-in with username + one factor, for the interaction routes. An unknown username and a
 * wrong PIN/code are indistinguishable to the caller: same error, same hashing work, and the
 * same lockout (keyed by the username when there is no user).
 */
import { AuthError, RateLimitError } from '../errors.ts';
import type { AccountDeps } from './deps.ts';

export type { AccountDeps } from './deps.ts';
import type { Factor } from './attemptLimits.ts';
import { checkPin } from './pin.ts';
import { auditSignin } from './signinAudit.ts';
import { checkTotp } from './totp.ts';
import { findUserByUsername } from './users.ts';
import { validateTenantId } from './tenants.ts';

function invalidCredentials(): AuthError {
  return new AuthError('auth.invalid_credentials', 'unknown user or wrong credentials');
}

async function authenticate(
  deps: AccountDeps,
  tenantId: string,
  username: string,
  factor: Factor,
  check: (lockSubject: string, userId: string | null) => Promise<{ ok: boolean; reason?: 'invalid_credentials' | 'replay' | 'no_credential' }>,
): Promise<{ userId: string }> {
  validateTenantId(tenantId);
  const user = await findUserByUsername(deps.db, tenantId, username);
  const userId = user?.id ?? null;
  const lockSubject = user ? user.id : `unknown:${String(username).trim().toLowerCase().slice(0, 128)}`;
  let result;
  try {
    result = await check(lockSubject, userId);
  } catch (e) {
    if (e instanceof RateLimitError) await auditSignin(deps.db, tenantId, factor, { ok: false, userId, reason: 'locked' });
    throw e;
  }
  if (result.ok && userId !== null) {
    await auditSignin(deps.db, tenantId, factor, { ok: true, userId });
    return { userId };
  }
  await auditSignin(deps.db, tenantId, factor, { ok: false, userId, reason: result.reason ?? 'invalid_credentials' });
  throw invalidCredentials();
}

/**
 * Username + PIN. Returns the user id, or throws AuthError `auth.invalid_credentials`, or
 * RateLimitError `factor.locked` (with retryAfterSeconds) while the PIN is locked.
 */
export function authenticatePin(deps: AccountDeps, tenantId: string, username: string, pin: string): Promise<{ userId: string }> {
  return authenticate(deps, tenantId, username, 'pin', async (lockSubject, userId) => ({
    ok: await checkPin(deps, tenantId, lockSubject, userId, pin),
  }));
}

/** Username + TOTP code; same contract as authenticatePin. A replayed code is invalid. */
export function authenticateTotp(deps: AccountDeps, tenantId: string, username: string, code: string): Promise<{ userId: string }> {
  return authenticate(deps, tenantId, username, 'totp', (lockSubject, userId) => checkTotp(deps, tenantId, lockSubject, userId, code));
}
