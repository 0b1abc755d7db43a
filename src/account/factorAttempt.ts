/**
 * One attempt at a factor, through its attempt limit: the attempt is reserved before the check
 * runs (so parallel guesses cannot outrun the count), then settled with the check's result —
 * a success resets the streak, a failure counts, a check that throws only releases its slot.
 * The one failure that locks (pin, totp) or disables (face) the factor is audited, then answered
 * with its error (`factor.locked`, `factor.disabled`); refused attempts get `factor.locked` or
 * `factor.throttled` (429, with the seconds to wait).
 */
import type { AccountDeps } from './deps.ts';
import type { Factor, Outcome } from './attemptLimits.ts';
import { isDisabled, refusalError, reserveAttempt, resetAttempts, settleAttempt } from './lockout.ts';
import { auditLockout } from './signinAudit.ts';

/** A check's answer: a boolean, or an object whose `livenessPassed` (face) weighs the failure. */
export type CheckResult = boolean | { ok: boolean; livenessPassed?: boolean };

function outcomeOf(result: CheckResult): Outcome {
  if (typeof result === 'boolean') return result ? 'success' : 'failure';
  if (result.ok) return 'success';
  return result.livenessPassed === true ? 'failure_with_liveness' : 'failure';
}

export async function attemptFactor<T extends CheckResult>(
  deps: AccountDeps,
  tenantId: string,
  lockSubject: string,
  userId: string | null,
  factor: Factor,
  check: () => Promise<T>,
): Promise<T> {
  const subject = { tenantId, subject: lockSubject, factor };
  const reservation = await reserveAttempt(deps, subject);
  let result: T;
  try {
    result = await check();
  } catch (e) {
    await settleAttempt(deps, subject, reservation, 'aborted');
    throw e;
  }
  const limitReached = await settleAttempt(deps, subject, reservation, outcomeOf(result));
  if (limitReached) {
    await auditLockout(deps.db, tenantId, userId, factor, limitReached);
    throw refusalError(factor, limitReached);
  }
  return result;
}

/** Clears a user's face failure streak and re-enables face; called when face is enrolled again. */
export function resetFaceAttempts(deps: AccountDeps, tenantId: string, userId: string): Promise<void> {
  return resetAttempts(deps, { tenantId, subject: userId, factor: 'face' });
}

/** Whether face is disabled for the user after too many failures (until re-enrollment). */
export function isFaceDisabled(deps: AccountDeps, tenantId: string, userId: string): Promise<boolean> {
  return isDisabled(deps, { tenantId, subject: userId, factor: 'face' });
}
