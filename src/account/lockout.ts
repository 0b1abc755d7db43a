/**
 * The attempt limits (attemptLimits.ts) kept in the KeyValueStore, so every provider process
 * sees the same counts: one key per tenant, factor and subject, changed by compare-and-set, so
 * reserving an attempt is one atomic step in Redis and in the in-process store alike. The key
 * names the subject by a keyed hash, never by a typed username or a user id. Rotating the data
 * key starts every count afresh (and re-enables a disabled face).
 */
import { randomUUID } from 'node:crypto';
import { AuthError, RateLimitError } from '../errors.ts';
import { attemptPolicy, nowMs, type AccountDeps } from './deps.ts';
import { EMPTY_STATE, keepForMs, reserve, settle, type AttemptPolicy, type AttemptState, type Factor, type Outcome, type Refusal } from './attemptLimits.ts';

type LockoutDeps = Pick<AccountDeps, 'kv' | 'dataKey' | 'lockout' | 'now'>;

/** Who is limited: a user id, or a marker for a username that does not exist. */
export type AttemptSubject = { tenantId: string; subject: string; factor: Factor };

// Only reservations and settlements write (refusals just read), so a burst settles in about
// as many rounds as the limit allows attempts; a store that never lets one through is refused.
const MAX_ROUNDS = 100;

function keyOf(deps: LockoutDeps, s: AttemptSubject): string {
  return `lockout:${s.tenantId}:${s.factor}:${deps.dataKey.mac('lockout', `${s.tenantId}\n${s.subject}`)}`;
}

/** The error a refused attempt, or the failure that reached a limit, answers with. */
export function refusalError(factor: Factor, refusal: Refusal): RateLimitError | AuthError {
  if (refusal.reason === 'disabled') {
    return new AuthError('factor.disabled', `${factor} is disabled after too many failed attempts; enroll it again or use another factor`, 403);
  }
  const seconds = Math.max(1, Math.ceil(refusal.waitMs / 1000));
  if (refusal.reason === 'throttled') return new RateLimitError('factor.throttled', `wait ${seconds} s before the next ${factor} attempt, or use another factor`, seconds);
  return new RateLimitError('factor.locked', `${factor} is locked after too many failed attempts; try again in ${seconds} s or use another factor`, seconds);
}

/** Reads the state, lets `change` decide, and writes its new state only if nobody wrote meanwhile. */
async function update<R>(
  deps: LockoutDeps,
  s: AttemptSubject,
  change: (state: AttemptState, policy: AttemptPolicy, now: number) => { state?: AttemptState; result: R },
): Promise<R> {
  const key = keyOf(deps, s);
  const policy = attemptPolicy(deps, s.factor);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const raw = await deps.kv.get(key);
    const now = nowMs(deps);
    const { state, result } = change(raw === null ? EMPTY_STATE : (JSON.parse(raw) as AttemptState), policy, now);
    if (!state) return result;
    const keepMs = keepForMs(state, policy, now);
    if (await deps.kv.compareAndSet(key, raw, keepMs > 0 ? JSON.stringify(state) : null, keepMs)) return result;
  }
  throw refusalError(s.factor, { reason: policy.kind === 'lock' ? 'locked' : 'throttled', waitMs: 1000 });
}

/** Reserves one attempt before its check runs; throws the refusal error when over the limit. */
export async function reserveAttempt(deps: LockoutDeps, s: AttemptSubject): Promise<string> {
  const id = randomUUID();
  const refusal = await update(deps, s, (state, policy, now) => {
    const r = reserve(state, policy, now, id);
    return r.refusal ? { result: r.refusal } : { state: r.state, result: undefined };
  });
  if (refusal) throw refusalError(s.factor, refusal);
  return id;
}

/** Settles a reserved attempt; returns the limit this failure reached (locked, disabled), if any. */
export function settleAttempt(deps: LockoutDeps, s: AttemptSubject, id: string, outcome: Outcome): Promise<Refusal | undefined> {
  return update(deps, s, (state, policy, now) => {
    const r = settle(state, policy, now, id, outcome);
    return { state: r.state, result: r.limitReached };
  });
}

/** Whether the subject's factor is disabled (face after too many failures); reads only. */
export async function isDisabled(deps: LockoutDeps, s: AttemptSubject): Promise<boolean> {
  const raw = await deps.kv.get(keyOf(deps, s));
  return raw !== null && (JSON.parse(raw) as AttemptState).disabled;
}

/** Forgets the subject's attempts at a factor (face re-enrollment). */
export async function resetAttempts(deps: LockoutDeps, s: AttemptSubject): Promise<void> {
  await deps.kv.delete(keyOf(deps, s));
}
