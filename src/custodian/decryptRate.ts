/**
 * The custodian's rates over all users: a global ceiling on decryptions per minute (whatever a
 * compromised provider does with live attempts, the custodian answers at most this many), and an
 * alert line when one tenant's decryptions in the current minute jump past ALERT_FACTOR times the
 * previous minute's (and at least ALERT_FLOOR) — the signature of a scripted run over many users.
 * Counters live in the key-value store under minute buckets; they hold tenant ids and counts only.
 */
import { RateLimitError } from '../errors.ts';
import type { KeyValueStore } from '../store/kv.ts';

const MINUTE_MS = 60_000;
/** 10 face steps a second, across every tenant: far above a small deployment's peak; a larger one sets its own. */
export const DEFAULT_GLOBAL_DECRYPT_LIMIT = 600;
/** A minute with fewer decryptions than this never alerts: a handful of sign-ins after a quiet minute is normal. */
export const ALERT_FLOOR = 30;
export const ALERT_FACTOR = 4;

export type DecryptRateAlert = { tenant: string; count: number; previousMinute: number };

export type DecryptRate = { note(tenantId: string): Promise<void> };

export function createDecryptRate(opts: {
  kv: KeyValueStore;
  globalLimit?: number;
  alert?: (alert: DecryptRateAlert) => void;
  now?: () => number;
}): DecryptRate {
  const { kv, globalLimit = DEFAULT_GLOBAL_DECRYPT_LIMIT, now = Date.now } = opts;
  const alert = opts.alert ?? ((a: DecryptRateAlert) => console.warn(JSON.stringify({ level: 'warn', msg: 'custodian.decrypt_rate_jump', ...a })));
  return {
    async note(tenantId) {
      const at = now();
      const minute = Math.floor(at / MINUTE_MS);
      const global = await kv.increment(`custodian:rate:global:${minute}`, 2 * MINUTE_MS);
      if (global > globalLimit) {
        throw new RateLimitError('custodian.busy', 'the custodian is answering its maximum rate; try again shortly', Math.ceil(((minute + 1) * MINUTE_MS - at) / 1000));
      }
      const count = await kv.increment(`custodian:rate:${tenantId}:${minute}`, 3 * MINUTE_MS);
      const previousMinute = Number((await kv.get(`custodian:rate:${tenantId}:${minute - 1}`)) ?? 0);
      // Equality, not ≥: one line per tenant and minute, at the crossing.
      if (count === Math.max(ALERT_FLOOR, ALERT_FACTOR * previousMinute)) alert({ tenant: tenantId, count, previousMinute });
    },
  };
}
