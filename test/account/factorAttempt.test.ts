/**
 * Attempt limits under attack, on Redis (when REDIS_URL is set) and on the in-process store:
 * parallel guesses are counted before they are evaluated, a right secret inside the burst is
 * refused, the lock is audited once, face follows NIST SP 800-63B-4 §3.2.3 on a moved clock,
 * and the store never names a user.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { generate } from 'otplib';
import { authenticatePin, authenticateTotp } from '../../src/account/authenticate.ts';
import type { AccountDeps } from '../../src/account/deps.ts';
import { attemptFactor, resetFaceAttempts } from '../../src/account/factorAttempt.ts';
import { setPin } from '../../src/account/pin.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/account/totp.ts';
import { createUser } from '../../src/account/users.ts';
import { AuthError, RateLimitError } from '../../src/errors.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import { memoryStore, redisStore, type KeyValueStore } from '../../src/store/kv.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

const PIN = '482913';
const WRONG = '111222';
const BURST = 20;
const locked = (e: unknown) => e instanceof RateLimitError && e.code === 'factor.locked' && e.retryAfterSeconds > 0;
const throttled = (seconds: number) => (e: unknown) => e instanceof RateLimitError && e.code === 'factor.throttled' && e.retryAfterSeconds === seconds;
const disabled = (e: unknown) => e instanceof AuthError && e.code === 'factor.disabled' && e.status === 403;

/** A KeyValueStore that remembers every key it was asked about (each of a list of keys). */
function recordingKeys(kv: KeyValueStore): { kv: KeyValueStore; keys: Set<string> } {
  const keys = new Set<string>();
  const record = (key: string | string[]) => (Array.isArray(key) ? key : [key]).forEach((k) => keys.add(k));
  const recorded = Object.fromEntries(
    Object.entries(kv).map(([name, fn]) => [name, (key: string | string[], ...rest: unknown[]) => (record(key), (fn as (...a: unknown[]) => unknown)(key, ...rest))]),
  ) as unknown as KeyValueStore;
  return { kv: recorded, keys };
}

/** A check that waits for `open()`; `started` resolves once `n` checks are running. */
function gate(n: number) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  let running = 0;
  let allRunning!: () => void;
  const started = new Promise<void>((r) => (allRunning = r));
  const check = async () => {
    if (++running === n) allRunning();
    await opened;
    return false;
  };
  return { check, started, open };
}

let db: TestDatabase;
before(async () => {
  db = await freshDatabase();
});
after(async () => {
  await db.close();
});

const stores: { name: string; tenant: string; open: () => { kv: KeyValueStore; prefix?: string } }[] = [
  { name: 'the in-process store', tenant: 'acme-memory', open: () => ({ kv: memoryStore() }) },
];
if (process.env.REDIS_URL) {
  stores.push({
    name: 'Redis',
    tenant: 'acme-redis',
    open: () => {
      const prefix = `facegate-test:${randomBytes(6).toString('hex')}:`;
      return { kv: redisStore(process.env.REDIS_URL!, prefix), prefix };
    },
  });
}

for (const store of stores) {
  describe(`attempt limits on ${store.name}`, () => {
    const T = store.tenant;
    let kv: KeyValueStore;
    let prefix: string | undefined;
    let keys: Set<string>;
    let clock = Date.UTC(2026, 0, 1, 12, 0, 10);
    let deps: AccountDeps;

    before(async () => {
      const opened = store.open();
      prefix = opened.prefix;
      ({ kv, keys } = recordingKeys(opened.kv));
      deps = { db, kv, dataKey: ephemeralDataKey(), now: () => clock };
      await createTenant(db, { id: T, name: 'Acme' }, 'test');
    });
    after(async () => {
      await kv.close();
    });

    async function userWithPin(username: string): Promise<string> {
      const user = await createUser(db, T, { username }, 'test');
      await setPin(db, T, user.id, PIN, 'test');
      return user.id;
    }

    async function userWithTotp(username: string): Promise<{ id: string; code: (steps: number) => Promise<string> }> {
      const user = await createUser(db, T, { username }, 'test');
      const { secret } = await beginTotpEnrollment(deps, T, user.id, { actor: 'test' });
      const code = (steps: number) => generate({ secret, epoch: Math.floor(clock / 1000) + steps * 30 });
      await confirmTotpEnrollment(deps, T, user.id, await code(-1));
      return { id: user.id, code };
    }

    /** Attempts whose secret was evaluated: each wrong one is audited as invalid, the locking one as the lock. */
    async function auditCounts(userId: string) {
      const { rows } = await db.withTenant(T, (sql) =>
        sql.query<{ type: string; reason: string | null }>("SELECT type, data->>'reason' AS reason FROM audit_events WHERE subject = $1", [userId]),
      );
      const invalid = rows.filter((r) => r.type === 'signin.failure' && r.reason === 'invalid_credentials').length;
      const locks = rows.filter((r) => r.type === 'factor.locked').length;
      return { evaluated: invalid + locks, locks };
    }

    it(`${BURST} parallel wrong PINs: at most 5 are evaluated, the lock is audited once, the right PIN after them is refused`, async (t) => {
      const id = await userWithPin('pat');
      const results = await Promise.allSettled(Array.from({ length: BURST }, () => authenticatePin(deps, T, 'pat', WRONG)));
      const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'accepted'));
      const { evaluated, locks } = await auditCounts(id);
      t.diagnostic(`${store.name}: ${evaluated} of ${BURST} parallel wrong PINs evaluated`);
      assert.ok(evaluated <= 5, `${evaluated} evaluated`);
      assert.equal(locks, 1, 'one lock, audited once');
      assert.equal(reasons.filter((c) => c === 'auth.invalid_credentials').length, evaluated - 1);
      assert.equal(reasons.filter((c) => c === 'factor.locked').length, BURST - evaluated + 1);
      await assert.rejects(authenticatePin(deps, T, 'pat', PIN), (e) => locked(e) && (e as RateLimitError).retryAfterSeconds > 14 * 60);
    });

    it('a right PIN is refused once 5 attempts are in flight, before any of them failed', async () => {
      const id = await userWithPin('quinn');
      const g = gate(5);
      const inFlight = Array.from({ length: 5 }, () => attemptFactor(deps, T, id, id, 'pin', g.check));
      await g.started;
      await assert.rejects(authenticatePin(deps, T, 'quinn', PIN), locked);
      g.open();
      const settled = await Promise.allSettled(inFlight);
      assert.equal(settled.filter((r) => r.status === 'rejected' && locked(r.reason)).length, 1, 'the fifth failure locks');
      await assert.rejects(authenticatePin(deps, T, 'quinn', PIN), locked);
    });

    it('a success releases its own slot and resets the streak, without freeing slots still in flight', async () => {
      const id = await userWithPin('rosa');
      const g = gate(4);
      const inFlight = Array.from({ length: 4 }, () => attemptFactor(deps, T, id, id, 'pin', g.check));
      await g.started;
      assert.deepEqual(await authenticatePin(deps, T, 'rosa', PIN), { userId: id });
      g.open();
      await Promise.all(inFlight);
      // The streak after the success is 4: one more failure locks.
      await assert.rejects(authenticatePin(deps, T, 'rosa', WRONG), locked);
    });

    it(`${BURST} parallel wrong TOTP codes: at most 5 are evaluated, and a right code inside or after the burst is refused`, async (t) => {
      const { id, code } = await userWithTotp('sam');
      const results = await Promise.allSettled(Array.from({ length: BURST }, () => authenticateTotp(deps, T, 'sam', '000000')));
      const { evaluated, locks } = await auditCounts(id);
      t.diagnostic(`${store.name}: ${evaluated} of ${BURST} parallel wrong TOTP codes evaluated`);
      assert.ok(evaluated <= 5, `${evaluated} evaluated`);
      assert.equal(locks, 1);
      assert.equal(results.filter((r) => r.status === 'rejected' && locked(r.reason)).length, BURST - evaluated + 1);
      await assert.rejects(authenticateTotp(deps, T, 'sam', await code(0)), locked);

      const other = await userWithTotp('tess');
      const g = gate(5);
      const inFlight = Array.from({ length: 5 }, () => attemptFactor(deps, T, other.id, other.id, 'totp', g.check));
      await g.started;
      await assert.rejects(authenticateTotp(deps, T, 'tess', await other.code(0)), locked);
      g.open();
      await Promise.allSettled(inFlight);
    });

    describe('face (NIST SP 800-63B-4 §3.2.3)', () => {
      const face = (userId: string, ok: boolean, livenessPassed: boolean) =>
        attemptFactor(deps, T, userId, userId, 'face', async () => ({ ok, livenessPassed, score: 0.987654321 }));
      const faceUser = async (name: string) => (await createUser(db, T, { username: name }, 'test')).id;

      it('after 5 failures without liveness, each attempt waits 30 s after the previous one; a success resets', async () => {
        const id = await faceUser('uma');
        for (let i = 0; i < 5; i++) assert.equal((await face(id, false, false)).ok, false);
        await assert.rejects(face(id, true, true), throttled(30));
        clock += 29_000;
        await assert.rejects(face(id, true, true), throttled(1));
        clock += 1_000;
        assert.equal((await face(id, false, false)).ok, false);
        clock += 10_000;
        await assert.rejects(face(id, false, false), throttled(20));
        clock += 20_000;
        assert.equal((await face(id, true, true)).ok, true, 'a success after the wait');
        for (let i = 0; i < 5; i++) assert.equal((await face(id, false, false)).ok, false, 'the streak started again');
        await assert.rejects(face(id, true, true), throttled(30));
      });

      it('allows 10 failures when liveness passed, and counts mixed streaks proportionally', async () => {
        const id = await faceUser('vic');
        for (let i = 0; i < 10; i++) await face(id, false, true);
        await assert.rejects(face(id, false, true), throttled(30));
        const mixed = await faceUser('wren');
        for (let i = 0; i < 4; i++) await face(mixed, false, false);
        await face(mixed, false, true);
        await face(mixed, false, true);
        // 4/5 + 2/10 of the limit
        await assert.rejects(face(mixed, false, true), throttled(30));
      });

      it('disables face after 50 failures (100 with liveness) until re-enrollment, audited once', async () => {
        for (const [name, livenessPassed, limit] of [['xena', false, 50], ['yuri', true, 100]] as const) {
          const id = await faceUser(name);
          for (let i = 1; i < limit; i++) {
            assert.equal((await face(id, false, livenessPassed)).ok, false);
            clock += 30_000;
          }
          await assert.rejects(face(id, false, livenessPassed), disabled);
          clock += 365 * 24 * 3_600_000;
          await assert.rejects(face(id, true, true), disabled, 'still disabled a year later');
          const { rows } = await db.withTenant(T, (sql) => sql.query("SELECT 1 FROM audit_events WHERE subject = $1 AND type = 'factor.disabled'", [id]));
          assert.equal(rows.length, 1);
          await resetFaceAttempts(deps, T, id);
          assert.equal((await face(id, true, true)).ok, true, 'usable again after re-enrollment');
        }
      });

      it(`${BURST} parallel face attempts: at most 5 are evaluated`, async (t) => {
        const id = await faceUser('zoe');
        let evaluated = 0;
        const results = await Promise.allSettled(
          Array.from({ length: BURST }, () =>
            attemptFactor(deps, T, id, id, 'face', async () => {
              evaluated++;
              await new Promise((r) => setTimeout(r, 20));
              return { ok: false, livenessPassed: false };
            }),
          ),
        );
        t.diagnostic(`${store.name}: ${evaluated} of ${BURST} parallel face attempts evaluated`);
        assert.ok(evaluated <= 5, `${evaluated} evaluated`);
        assert.equal(results.filter((r) => r.status === 'rejected' && r.reason instanceof RateLimitError && r.reason.code === 'factor.throttled').length, BURST - evaluated);
      });
    });

    it('keeps no username, user id or score in the store', async () => {
      for (let i = 0; i < 3; i++) await assert.rejects(authenticatePin(deps, T, 'ghost-unknown-user', WRONG), { code: 'auth.invalid_credentials' });
      // Known users are limited by id, unknown ones by the typed name: neither may show.
      const ids = (await db.withTenant(T, (sql) => sql.query<{ id: string }>('SELECT id FROM users'))).rows;
      const names = ['ghost-unknown-user', ...ids.map((u) => u.id)];
      const stored = [...keys];
      if (prefix) {
        const redis = new Redis(process.env.REDIS_URL!);
        try {
          const found = await redis.keys(`${prefix}*`);
          assert.ok(found.some((k) => k.startsWith(`${prefix}lockout:`)), 'the scan sees the lockout keys');
          for (const k of found) stored.push(k, (await redis.get(k)) ?? '');
        } finally {
          redis.disconnect();
        }
      } else {
        for (const k of keys) stored.push((await kv.get(k)) ?? '');
      }
      const text = stored.join('\n');
      assert.ok(keys.size > 0);
      for (const name of names) assert.ok(!text.includes(name), `${name} appears in the store`);
      assert.ok(!text.includes('987654321'), 'no score in the store');
    });
  });
}
