/**
 * PINs: hashed with Argon2id, verified through the per-factor lockout.
 *
 * Policy: 6–12 digits. Six digits (10⁶ values) is the floor because the lockout lets an online
 * attacker try at most 5 PINs per 15 minutes (480 a day), so guessing a random PIN takes years;
 * twelve is the most people reliably remember and type on a keypad. The most common PINs (one
 * repeated digit, straight ascending/descending runs) are refused: they are tried first.
 */
import { hash, verify } from '@node-rs/argon2';
import { appendAudit } from '../audit/log.ts';
import { InputError, NotFoundError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import type { AccountDeps } from './deps.ts';
import { attemptFactor } from './factorAttempt.ts';
import { inTenant, validateTenantId } from './tenants.ts';
import { isUuid } from '../ids.ts';

/** OWASP Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1 (the library's defaults, pinned here). */
const ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const PIN_MIN = 6;
export const PIN_MAX = 12;
const PIN = new RegExp(`^[0-9]{${PIN_MIN},${PIN_MAX}}$`);

/** Throws InputError `pin.invalid_format` or `pin.too_weak`; returns the PIN unchanged. */
export function validatePin(pin: string): string {
  if (!PIN.test(pin)) throw new InputError('pin.invalid_format', `PIN must be ${PIN_MIN}–${PIN_MAX} digits`);
  if (/^(\d)\1+$/.test(pin) || isRun(pin, 1) || isRun(pin, -1)) throw new InputError('pin.too_weak', 'PIN must not be one repeated digit or a straight sequence like 123456');
  return pin;
}

function isRun(pin: string, step: 1 | -1): boolean {
  for (let i = 1; i < pin.length; i++) if ((Number(pin[i - 1]) + step + 10) % 10 !== Number(pin[i])) return false;
  return true;
}

function hashPin(pin: string): Promise<string> {
  return hash(validatePin(pin), ARGON2);
}

// Verified against when the user has no PIN, so that case costs the same time as a wrong PIN.
let dummyHash: Promise<string> | undefined;
function dummyPinHash(): Promise<string> {
  dummyHash ??= hash('not-a-pin-0000', ARGON2);
  return dummyHash;
}

export async function setPin(db: Database, tenantId: string, userId: string, pin: string, actor: string): Promise<void> {
  const pinHash = await hashPin(pin);
  await inTenant(db, tenantId, async (sql) => {
    const { rowCount } = await sql.query(
      `INSERT INTO pin_credentials (tenant_id, user_id, hash)
       SELECT $1, id, $3 FROM users WHERE tenant_id = $1 AND id = $2
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET hash = excluded.hash, updated_at = now()`,
      [tenantId, userId, pinHash],
    );
    if (rowCount !== 1) throw new NotFoundError('user.not_found', `user ${userId} does not exist in tenant "${tenantId}"`);
    await appendAudit(sql, tenantId, { type: 'pin.set', actor, subject: userId });
  });
}

/**
 * Checks a PIN for a user through the lockout: throws RateLimitError `factor.locked` while the
 * PIN is locked or when this failure locks it; otherwise true/false. A malformed PIN is a
 * wrong PIN here (it counts as a failure) so the answer says nothing about the stored one.
 */
export function verifyPin(deps: AccountDeps, tenantId: string, userId: string, pin: string): Promise<boolean> {
  return checkPin(deps, tenantId, userId, isUuid(userId) ? userId : null, pin);
}

/**
 * verifyPin with the lockout keyed by `lockSubject`; `userId` null means no such user, which
 * hashes a dummy and fails the same way (and locks the same way) as a wrong PIN.
 */
export async function checkPin(deps: AccountDeps, tenantId: string, lockSubject: string, userId: string | null, pin: string): Promise<boolean> {
  validateTenantId(tenantId);
  return attemptFactor(deps, tenantId, lockSubject, userId, 'pin', async () => {
    const stored = userId === null ? undefined : (
      await deps.db.withTenant(tenantId, (sql) =>
        sql.query<{ hash: string }>('SELECT hash FROM pin_credentials WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]),
      )
    ).rows[0]?.hash;
    const candidate = typeof pin === 'string' && pin.length <= PIN_MAX ? pin : '';
    const matches = await verify(stored ?? (await dummyPinHash()), candidate);
    return matches && stored !== undefined;
  });
}

/** When the user's PIN was last set, or null when they have none. */
export async function pinSetAt(db: Database, tenantId: string, userId: string): Promise<Date | null> {
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<{ updated_at: Date }>('SELECT updated_at FROM pin_credentials WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]),
  );
  return rows[0] ? new Date(rows[0].updated_at) : null;
}
