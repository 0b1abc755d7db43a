/** What the account functions need from the outside world; the provider builds it once. */
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import type { DataKey } from '../store/dataKey.ts';
import { DEFAULT_LOCK, FACE_THROTTLE, type AttemptPolicy, type Factor, type LockPolicy } from './attemptLimits.ts';

export type AccountDeps = {
  db: Database;
  kv: KeyValueStore;
  /** Seals secrets at rest and keys hashes of looked-up values (store/dataKey.ts). */
  dataKey: DataKey;
  /** Overrides of the PIN/TOTP 5-failures / 15-minutes lock (tests use short windows). */
  lockout?: Partial<LockPolicy>;
  /** Clock in ms since the epoch, for TOTP steps and attempt limits; tests move it. */
  now?: () => number;
};

export function attemptPolicy(deps: Pick<AccountDeps, 'lockout'>, factor: Factor): AttemptPolicy {
  return factor === 'face' ? { kind: 'throttle', ...FACE_THROTTLE } : { kind: 'lock', ...DEFAULT_LOCK, ...deps.lockout };
}

export function nowMs(deps: Pick<AccountDeps, 'now'>): number {
  return (deps.now ?? Date.now)();
}
