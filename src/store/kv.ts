/**
 * Short-lived state shared between provider processes: one-time nonces, failure counters,
 * lockouts. Redis when REDIS_URL is set, otherwise an in-process map with the same semantics.
 * Never store biometric data here.
 */
import { Redis } from 'ioredis';

export type KeyValueStore = {
  /** Stores `value` under `key` for `ttlMs` only if the key is absent; true when stored. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Stores `value` under `key` for `ttlMs`, replacing any value. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
  /** The values under `keys`, in order (null where absent), in one request. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /**
   * Stores `value` under `key` for `ttlMs` only if the key is absent and none of `blockers`
   * exists, in one atomic step; true when stored. Consumes a single-use value and checks the
   * markers that revoke it together, so neither a parallel use nor a revocation slips in between.
   */
  setIfAbsentUnless(key: string, value: string, ttlMs: number, blockers: string[]): Promise<boolean>;
  /** Atomically reads and deletes: a one-time value can be taken once. */
  take(key: string): Promise<string | null>;
  /** Adds 1 and returns the new count; the TTL is set when the key is created. */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Replaces the value under `key` only if it still is `expected` (null: absent), in one atomic
   * step; `value` null deletes, `ttlMs` Infinity keeps it until replaced. True when replaced.
   * Lets a caller read, decide, and write without a concurrent writer slipping in between.
   */
  compareAndSet(key: string, expected: string | null, value: string | null, ttlMs: number): Promise<boolean>;
  /** Remaining lifetime in ms (Infinity when it does not expire), or null when the key is absent. */
  ttl(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Every live key starting with `prefix` (a scan: for rare maintenance such as deleting a user, never a hot path). */
  keys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
};

// ARGV: expected present (1/0), expected, value present (1/0), value, ttl ms (0: none).
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '0' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return 1`;

// KEYS[1]: the key to set, KEYS[2..]: blockers. ARGV: value, ttl ms.
const SET_IF_ABSENT_UNLESS = `
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`;

type Scripts = {
  compareAndSet(key: string, ...args: string[]): Promise<number>;
  setIfAbsentUnless(keyCount: number, ...keysAndArgs: string[]): Promise<number>;
};

export function redisStore(url: string, prefix = 'facegate:'): KeyValueStore {
  const redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', () => {});
  redis.defineCommand('compareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  redis.defineCommand('setIfAbsentUnless', { lua: SET_IF_ABSENT_UNLESS });
  const scripts = redis as unknown as Scripts;
  return {
    async setIfAbsent(key, value, ttlMs) {
      return (await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK';
    },
    async set(key, value, ttlMs) {
      await redis.set(key, value, 'PX', ttlMs);
    },
    get: (key) => redis.get(key),
    getMany: (keys) => (keys.length === 0 ? Promise.resolve([]) : redis.mget(keys)),
    async setIfAbsentUnless(key, value, ttlMs, blockers) {
      return (await scripts.setIfAbsentUnless(1 + blockers.length, key, ...blockers, value, String(Math.max(1, Math.ceil(ttlMs))))) === 1;
    },
    take: (key) => redis.getdel(key),
    async increment(key, ttlMs) {
      const [[, count]] = (await redis.multi().incr(key).pexpire(key, ttlMs, 'NX').exec()) as [[null, number]];
      return count;
    },
    async compareAndSet(key, expected, value, ttlMs) {
      const ttl = Number.isFinite(ttlMs) ? String(Math.max(1, Math.ceil(ttlMs))) : '0';
      const args = [expected === null ? '0' : '1', expected ?? '', value === null ? '0' : '1', value ?? '', ttl];
      return (await scripts.compareAndSet(key, ...args)) === 1;
    },
    async ttl(key) {
      const ms = await redis.pttl(key);
      return ms === -2 ? null : ms === -1 ? Infinity : ms;
    },
    async delete(key) {
      await redis.del(key);
    },
    async keys(keyPrefix) {
      // SCAN does not apply ioredis' keyPrefix: match and strip it here. Glob characters in the
      // prefix are escaped so a key part is matched literally.
      const pattern = `${prefix}${keyPrefix}`.replace(/[*?[\]\\]/g, '\\$&') + '*';
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) found.push(k.slice(prefix.length));
      } while (cursor !== '0');
      return found;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function memoryStore(now: () => number = Date.now): KeyValueStore {
  const map = new Map<string, { value: string; expires: number }>();
  const live = (key: string) => {
    const e = map.get(key);
    if (e && e.expires <= now()) {
      map.delete(key);
      return undefined;
    }
    return e;
  };
  // Expired entries are also swept periodically so an idle process does not grow.
  const sweep = setInterval(() => {
    for (const [k, e] of map) if (e.expires <= now()) map.delete(k);
  }, 60_000);
  sweep.unref();
  const setIfAbsentUnless = (key: string, value: string, ttlMs: number, blockers: string[]) => {
    if (live(key) || blockers.some((b) => live(b))) return false;
    map.set(key, { value, expires: now() + ttlMs });
    return true;
  };
  return {
    async setIfAbsent(key, value, ttlMs) {
      return setIfAbsentUnless(key, value, ttlMs, []);
    },
    async set(key, value, ttlMs) {
      map.set(key, { value, expires: now() + ttlMs });
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async getMany(keys) {
      return keys.map((key) => live(key)?.value ?? null);
    },
    async setIfAbsentUnless(key, value, ttlMs, blockers) {
      return setIfAbsentUnless(key, value, ttlMs, blockers);
    },
    async take(key) {
      const e = live(key);
      map.delete(key);
      return e?.value ?? null;
    },
    async increment(key, ttlMs) {
      const e = live(key);
      const count = e ? Number(e.value) + 1 : 1;
      map.set(key, { value: String(count), expires: e ? e.expires : now() + ttlMs });
      return count;
    },
    async compareAndSet(key, expected, value, ttlMs) {
      if ((live(key)?.value ?? null) !== expected) return false;
      if (value === null) map.delete(key);
      else map.set(key, { value, expires: now() + ttlMs });
      return true;
    },
    async ttl(key) {
      const e = live(key);
      return e ? e.expires - now() : null;
    },
    async delete(key) {
      map.delete(key);
    },
    async keys(prefix) {
      return [...map.keys()].filter((k) => k.startsWith(prefix) && live(k));
    },
    async close() {
      clearInterval(sweep);
      map.clear();
    },
  };
}

export function openKeyValueStore(url: string | undefined, prefix?: string): KeyValueStore {
  return url ? redisStore(url, prefix) : memoryStore();
}
