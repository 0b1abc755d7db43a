/**
 * Attempt limits per factor, as pure state transitions so every store applies the same rule.
 * An attempt is reserved before its check runs and settled after it: a reservation in flight
 * counts as a failure against the limit, so N parallel guesses cannot all be evaluated.
 * - pin, totp: 5 consecutive failures lock that factor for 15 min (the account never locks).
 * - face (NIST SP 800-63B-4 §3.2.3, DESIGN.md §3.7): after 5 consecutive failures (10 when
 *   liveness passed) each further attempt waits ≥ 30 s after the previous one; after 50 (100)
 *   the factor is disabled for the user until re-enrollment.
 * A success resets the streak. Mixed face streaks add up proportionally (a failure without
 * liveness weighs two with it). Only counts and times are kept, never scores or biometric data.
 */
export type Factor = 'pin' | 'totp' | 'face';

/** A streak length: `plain` failures, or `withLiveness` when every one of them passed liveness. */
export type FailureLimit = { plain: number; withLiveness: number };

export type LockPolicy = {
  /** Consecutive failures that lock the factor. */
  maxFailures: number;
  /** How long the factor stays locked. */
  lockMs: number;
  /** How long a failure streak is remembered without a new failure; bounds stale counters. */
  failureMemoryMs: number;
};

export type ThrottlePolicy = {
  /** Streak after which each attempt waits `spacingMs` after the previous one. */
  throttleAfter: FailureLimit;
  /** Streak that disables the factor until it is enrolled again. */
  disableAfter: FailureLimit;
  spacingMs: number;
};

export type AttemptPolicy = ({ kind: 'lock' } & LockPolicy) | ({ kind: 'throttle' } & ThrottlePolicy);

/** How long a reservation counts when its attempt never settles (a crashed process). */
export const RESERVATION_MS = 60_000;

export const DEFAULT_LOCK: LockPolicy = { maxFailures: 5, lockMs: 15 * 60_000, failureMemoryMs: 24 * 3_600_000 };

export const FACE_THROTTLE: ThrottlePolicy = {
  throttleAfter: { plain: 5, withLiveness: 10 },
  disableAfter: { plain: 50, withLiveness: 100 },
  spacingMs: 30_000,
};

export type AttemptState = {
  /** Consecutive failures; face splits them by whether liveness passed. */
  failures: number;
  livenessFailures: number;
  /** When the last failure was settled (ms since the epoch). */
  failedAt: number;
  /** Reserved attempts not yet settled; each counts as a failure until it settles or expires. */
  pending: { id: string; until: number }[];
  /** pin/totp: locked until then (0: not locked). */
  lockedUntil: number;
  /** face: when the last attempt started or failed, for the spacing. */
  lastAttemptAt: number;
  /** face: disabled until re-enrollment. */
  disabled: boolean;
};

export const EMPTY_STATE: AttemptState = { failures: 0, livenessFailures: 0, failedAt: 0, pending: [], lockedUntil: 0, lastAttemptAt: 0, disabled: false };

/** Why an attempt is refused; `waitMs` is how long until trying again makes sense. */
export type Refusal = { reason: 'locked' | 'throttled'; waitMs: number } | { reason: 'disabled' };

export type Outcome = 'success' | 'failure' | 'failure_with_liveness' | 'aborted';

/** Whether a streak of `plain` + `withLiveness` failures has reached `limit` (integer arithmetic). */
function reached(plain: number, withLiveness: number, limit: FailureLimit): boolean {
  return plain * limit.withLiveness + withLiveness * limit.plain >= limit.plain * limit.withLiveness;
}

/** The state as of `now`: expired reservations, an ended lock and a forgotten streak dropped. */
function current(state: AttemptState, policy: AttemptPolicy, now: number): AttemptState {
  const forgotten = policy.kind === 'lock' && state.failedAt + policy.failureMemoryMs <= now;
  return {
    ...state,
    failures: forgotten ? 0 : state.failures,
    livenessFailures: forgotten ? 0 : state.livenessFailures,
    pending: state.pending.filter((p) => p.until > now),
    lockedUntil: state.lockedUntil > now ? state.lockedUntil : 0,
  };
}

/** Until the first reservation in flight settles or expires, at the latest. */
function untilPendingSettles(s: AttemptState, now: number): number {
  return Math.min(now + RESERVATION_MS, ...s.pending.map((p) => p.until)) - now;
}

/**
 * Reserves attempt `id` before its check runs, or refuses it. Attempts in flight are counted
 * as failures (without liveness): the limit holds however many arrive at once.
 */
export function reserve(state: AttemptState, policy: AttemptPolicy, now: number, id: string): { state: AttemptState; refusal?: Refusal } {
  const s = current(state, policy, now);
  const inFlight = s.pending.length;
  if (s.disabled) return { state: s, refusal: { reason: 'disabled' } };
  if (s.lockedUntil > now) return { state: s, refusal: { reason: 'locked', waitMs: s.lockedUntil - now } };
  if (policy.kind === 'lock') {
    if (s.failures + inFlight >= policy.maxFailures) return { state: s, refusal: { reason: 'locked', waitMs: untilPendingSettles(s, now) } };
  } else {
    if (inFlight > 0 && reached(s.failures + inFlight, s.livenessFailures, policy.disableAfter)) {
      return { state: s, refusal: { reason: 'throttled', waitMs: untilPendingSettles(s, now) } };
    }
    const nextAt = s.lastAttemptAt + policy.spacingMs;
    if (reached(s.failures + inFlight, s.livenessFailures, policy.throttleAfter) && now < nextAt) {
      return { state: s, refusal: { reason: 'throttled', waitMs: nextAt - now } };
    }
  }
  return { state: { ...s, pending: [...s.pending, { id, until: now + RESERVATION_MS }], lastAttemptAt: now } };
}

/**
 * Settles attempt `id` with its outcome. A success resets the streak (a lock or a disabled
 * face set meanwhile stays); a failure counts; `aborted` (the check threw) only releases the
 * reservation. `limitReached` is set on the one failure that locks or disables the factor.
 */
export function settle(
  state: AttemptState,
  policy: AttemptPolicy,
  now: number,
  id: string,
  outcome: Outcome,
): { state: AttemptState; limitReached?: Refusal } {
  const s = { ...current(state, policy, now) };
  s.pending = s.pending.filter((p) => p.id !== id);
  if (outcome === 'aborted') return { state: s };
  if (outcome === 'success') return { state: { ...s, failures: 0, livenessFailures: 0 } };
  if (outcome === 'failure_with_liveness' && policy.kind === 'throttle') s.livenessFailures += 1;
  else s.failures += 1;
  s.failedAt = now;
  s.lastAttemptAt = now;
  if (policy.kind === 'lock' && s.failures >= policy.maxFailures) {
    return { state: { ...s, failures: 0, lockedUntil: now + policy.lockMs }, limitReached: { reason: 'locked', waitMs: policy.lockMs } };
  }
  if (policy.kind === 'throttle' && !s.disabled && reached(s.failures, s.livenessFailures, policy.disableAfter)) {
    return { state: { ...s, disabled: true }, limitReached: { reason: 'disabled' } };
  }
  return { state: s };
}

/**
 * How long the state must be kept from `now`: 0 when it holds nothing, Infinity for a face
 * streak or a disabled face (kept until a success or re-enrollment resets it).
 */
export function keepForMs(state: AttemptState, policy: AttemptPolicy, now: number): number {
  const streak = state.failures + state.livenessFailures > 0;
  if (policy.kind === 'throttle' && (streak || state.disabled)) return Infinity;
  const ends = [state.lockedUntil, ...state.pending.map((p) => p.until)];
  if (policy.kind === 'lock' && streak) ends.push(state.failedAt + policy.failureMemoryMs);
  return Math.max(0, Math.max(...ends) - now);
}
