/** What the account functions need from the outside world; the provider builds it once. */
import type { Database } from '../store/db.ts';
import type { KeyValueStore } from '../store/kv.ts';
import type { DataKey } from '../store/dataKey.ts';
import { DEFAULT_LOCKOUT, type LockoutPolicy } from './lockout.ts';

export type AccountDeps = {
  db: Database;
  kv: KeyValueStore;
  /** Seals secrets at rest and keys hashes of looked-up values (store/dataKey.ts). */
  dataKey: DataKey;
  /** Overrides of the 5-failures / 15-minutes lockout (tests use short windows). */
  lockout?: Partial<LockoutPolicy>;
  /** Clock in ms since the epoch, for TOTP steps; tests move it. */
  now?: () => number;
};

export function lockoutPolicy(deps: AccountDeps): LockoutPolicy {
  return { ...DEFAULT_LOCKOUT, ...deps.lockout };
}

export function nowMs(deps: AccountDeps): number {
  return (deps.now ?? Date.now)();
}
