/**
 * Per-factor lockout: after `maxFailures` consecutive failures a factor (PIN, TOTP) is locked
 * for `lockMs` for that user, while the user's other factors stay usable — the account itself
 * is never locked. State lives in the KeyValueStore (Redis in production) so every provider
 * process sees the same counts.
 */
import { RateLimitError } from '../errors.ts';
import type { KeyValueStore } from '../store/kv.ts';

export type Factor = 'pin' | 'totp';

export type LockoutPolicy = {
  /** Consecutive failures that lock the factor. */
  maxFailures: number;
  /** How long the factor stays locked. */
  lockMs: number;
  /** How long a failure streak is remembered without a new failure; bounds stale counters. */
  failureMemoryMs: number;
};

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, lockMs: 15 * 60_000, failureMemoryMs: 24 * 3_600_000 };

/** Who is being locked: a user id, or a marker for a username that does not exist. */
export type LockoutSubject = { tenantId: string; subject: string; factor: Factor };

function keys(s: LockoutSubject): { failures: string; locked: string } {
  const base = `lockout:${s.tenantId}:${s.factor}:${encodeURIComponent(s.subject)}`;
  return { failures: `${base}:failures`, locked: `${base}:locked` };
}

function lockedError(factor: Factor, ms: number): RateLimitError {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new RateLimitError('factor.locked', `${factor} is locked after too many failed attempts; try again in ${seconds} s or use another factor`, seconds);
}

/** Throws RateLimitError `factor.locked` while the factor is locked. */
export async function assertNotLocked(kv: KeyValueStore, s: LockoutSubject): Promise<void> {
  const ms = await kv.ttl(keys(s).locked);
  if (ms !== null) throw lockedError(s.factor, ms);
}

/**
 * Counts a failure; when the streak reaches the limit, locks the factor and throws
 * RateLimitError `factor.locked` (the caller audits the lockout).
 */
export async function recordFailure(kv: KeyValueStore, s: LockoutSubject, policy: LockoutPolicy = DEFAULT_LOCKOUT): Promise<void> {
  const k = keys(s);
  const failures = await kv.increment(k.failures, policy.failureMemoryMs);
  if (failures < policy.maxFailures) return;
  // The increment is atomic, so concurrent failures agree on who trips the lock; setting the
  // lock before clearing the streak leaves no moment where neither holds.
  await kv.set(k.locked, '1', policy.lockMs);
  await kv.delete(k.failures);
  throw lockedError(s.factor, policy.lockMs);
}

/** A success ends the failure streak. */
export async function recordSuccess(kv: KeyValueStore, s: LockoutSubject): Promise<void> {
  await kv.delete(keys(s).failures);
}
