import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from 'otplib';
import { authenticatePin, authenticateTotp } from '../../src/account/authenticate.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import type { AccountDeps } from '../../src/account/deps.ts';
import { setPin } from '../../src/account/pin.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { beginTotpEnrollment, confirmTotpEnrollment } from '../../src/account/totp.ts';
import { createUser } from '../../src/account/users.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { AuthError, RateLimitError } from '../../src/errors.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import { freshDatabase, freshKeyValueStore, type TestDatabase } from '../support/services.ts';

const T = 'acme';
const PIN = '482913';
const LOCK_MS = 1500;
let db: TestDatabase;
let kv: KeyValueStore;
let clock = Date.UTC(2026, 0, 1, 12, 0, 10);
let deps: AccountDeps;
const secrets = new Map<string, string>();

async function userWithFactors(username: string): Promise<string> {
  const user = await createUser(db, T, { username }, 'test');
  await setPin(db, T, user.id, PIN, 'test');
  const { secret } = await beginTotpEnrollment(deps, T, user.id, { actor: 'test' });
  secrets.set(username, secret);
  // Confirmed with the previous step's code so the current step is still unused.
  await confirmTotpEnrollment(deps, T, user.id, await codeAt(username, -1));
  return user.id;
}

function codeAt(username: string, steps: number): Promise<string> {
  return generate({ secret: secrets.get(username)!, epoch: Math.floor(clock / 1000) + steps * 30 });
}

const invalid = { code: 'auth.invalid_credentials' };
const locked = (e: unknown) => e instanceof RateLimitError && e.code === 'factor.locked' && e.retryAfterSeconds > 0;

before(async () => {
  db = await freshDatabase();
  kv = freshKeyValueStore();
  deps = { db, kv, dataKey: ephemeralDataKey(), lockout: { lockMs: LOCK_MS }, now: () => clock };
  await createTenant(db, { id: T, name: 'Acme' }, 'test');
});
after(async () => {
  await kv.close();
  await db.close();
});

describe('authenticatePin', () => {
  it('signs in with the right PIN, case-insensitive username', async () => {
    const id = await userWithFactors('alice');
    assert.deepEqual(await authenticatePin(deps, T, 'Alice', PIN), { userId: id });
  });

  it('answers a wrong PIN, an unknown user, a malformed PIN and a user without PIN alike', async () => {
    await createUser(db, T, { username: 'nopin' }, 'test');
    for (const [username, pin] of [['alice', '000111'], ['nobody', PIN], ['alice', 'abc'], ['alice', PIN + '0'.repeat(58)], ['nopin', PIN]]) {
      await assert.rejects(authenticatePin(deps, T, username, pin), (e) => e instanceof AuthError && e.code === 'auth.invalid_credentials');
    }
  });

  it('locks the PIN after 5 consecutive failures, keeps TOTP usable, and unlocks after the window', async () => {
    await userWithFactors('bob');
    await authenticatePin(deps, T, 'bob', PIN);
    for (let i = 1; i <= 4; i++) await assert.rejects(authenticatePin(deps, T, 'bob', '111222'), invalid);
    await assert.rejects(authenticatePin(deps, T, 'bob', '111222'), locked);
    // the right PIN is refused while locked
    await assert.rejects(authenticatePin(deps, T, 'bob', PIN), locked);
    // the other factor is not locked
    assert.ok((await authenticateTotp(deps, T, 'bob', await codeAt('bob', 0))).userId);
    await sleep(LOCK_MS + 100);
    assert.ok((await authenticatePin(deps, T, 'bob', PIN)).userId);
  });

  it('counts only consecutive failures: a success resets the streak', async () => {
    await userWithFactors('carol');
    for (let i = 0; i < 4; i++) await assert.rejects(authenticatePin(deps, T, 'carol', '111222'), invalid);
    await authenticatePin(deps, T, 'carol', PIN);
    for (let i = 0; i < 4; i++) await assert.rejects(authenticatePin(deps, T, 'carol', '111222'), invalid);
    assert.ok((await authenticatePin(deps, T, 'carol', PIN)).userId);
  });

  it('locks unknown usernames the same way, so lockout does not reveal who exists', async () => {
    for (let i = 0; i < 4; i++) await assert.rejects(authenticatePin(deps, T, 'ghost', '111222'), invalid);
    await assert.rejects(authenticatePin(deps, T, 'ghost', '111222'), locked);
  });
});

describe('authenticateTotp', () => {
  it('accepts codes one step either side of now, and rejects two steps away', async () => {
    await userWithFactors('dave');
    clock += 30_000 * 10;
    await assert.rejects(authenticateTotp(deps, T, 'dave', await codeAt('dave', -2)), invalid);
    await assert.rejects(authenticateTotp(deps, T, 'dave', await codeAt('dave', 2)), invalid);
    assert.ok(await authenticateTotp(deps, T, 'dave', await codeAt('dave', -1)));
    clock += 30_000 * 10;
    assert.ok(await authenticateTotp(deps, T, 'dave', await codeAt('dave', 1)));
  });

  it('rejects a replayed code and any code of an earlier step', async () => {
    await userWithFactors('erin');
    clock += 30_000 * 10;
    const now = await codeAt('erin', 0);
    const previous = await codeAt('erin', -1);
    assert.ok(await authenticateTotp(deps, T, 'erin', now));
    await assert.rejects(authenticateTotp(deps, T, 'erin', now), invalid);
    await assert.rejects(authenticateTotp(deps, T, 'erin', previous), invalid);
    assert.ok(await authenticateTotp(deps, T, 'erin', await codeAt('erin', 1)));
  });

  it('accepts a code only once under concurrent use', async () => {
    await userWithFactors('frank');
    clock += 30_000 * 10;
    const code = await codeAt('frank', 0);
    const results = await Promise.allSettled([1, 2, 3].map(() => authenticateTotp(deps, T, 'frank', code)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  it('does not sign in with an unconfirmed enrollment', async () => {
    const user = await createUser(db, T, { username: 'gina' }, 'test');
    const { secret } = await beginTotpEnrollment(deps, T, user.id);
    const code = await generate({ secret, epoch: Math.floor(clock / 1000) });
    await assert.rejects(authenticateTotp(deps, T, 'gina', code), invalid);
  });

  it('locks TOTP after 5 failures while the PIN stays usable', async () => {
    await userWithFactors('hank');
    for (let i = 0; i < 4; i++) await assert.rejects(authenticateTotp(deps, T, 'hank', '000000'), invalid);
    await assert.rejects(authenticateTotp(deps, T, 'hank', '000000'), locked);
    // the current step's code is unused, and refused while locked (the lock runs on deps.now)
    await assert.rejects(authenticateTotp(deps, T, 'hank', await codeAt('hank', 0)), locked);
    assert.ok(await authenticatePin(deps, T, 'hank', PIN));
  });
});

describe('audit of sign-ins', () => {
  it('records successes, failures and lockouts without the PIN or code', async () => {
    const { rows } = await db.withTenant(T, (sql) => sql.query<{ type: string; data: Record<string, unknown> }>('SELECT type, data FROM audit_events ORDER BY seq'));
    const types = new Set(rows.map((r) => r.type));
    for (const t of ['signin.success', 'signin.failure', 'factor.locked', 'pin.set', 'totp.enrolled']) assert.ok(types.has(t), t);
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(PIN) && !text.includes('111222'));
    for (const secret of secrets.values()) assert.ok(!text.includes(secret));
    assert.ok(rows.some((r) => r.type === 'signin.failure' && r.data.reason === 'replay'));
    assert.equal((await verifyAuditChain(db, T)).ok, true);
  });
});
