/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s) with otplib. A code is accepted one step either side
 * of now, and only once: the step of the last accepted code is stored and advanced with a
 * conditional UPDATE, so a replayed or concurrently reused code fails even across processes.
 * The secret is stored sealed with the data key to its tenant and user.
 */
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import { appendAudit } from '../audit/log.ts';
import { ConflictError, InputError, NotFoundError } from '../errors.ts';
import { SEALED_LIKE, type DataKey } from '../store/dataKey.ts';
import type { Sql } from '../store/db.ts';
import { nowMs, type AccountDeps } from './deps.ts';
import { attemptFactor } from './factorAttempt.ts';
import { inTenant, validateTenantId } from './tenants.ts';
import { isUuid } from '../ids.ts';

const PERIOD_S = 30;
const CODE = /^[0-9]{6}$/;

export type TotpEnrollment = {
  /** Base32 secret, for manual entry. */
  secret: string;
  /** otpauth:// URI the authenticator app scans. */
  uri: string;
  /** The URI as an SVG QR code, for a web page. */
  qrSvg: string;
};

function secretContext(tenantId: string, userId: string): string {
  return `totp:${tenantId}:${userId}`;
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid_credentials' | 'replay' | 'no_credential' };

/**
 * Starts (or, with `replace`, restarts) enrollment: stores a new unconfirmed secret. The user
 * proves their app has it with `confirmTotpEnrollment`; until then it signs nobody in.
 * `issuer` (shown in the authenticator app) defaults to `facegate (<tenant>)`; `actor` to the user.
 */
export async function beginTotpEnrollment(
  deps: Partial<AccountDeps> & Pick<AccountDeps, 'db' | 'dataKey'>,
  tenantId: string,
  userId: string,
  options: { issuer?: string; replace?: boolean; actor?: string } = {},
): Promise<TotpEnrollment> {
  const issuer = options.issuer ?? `facegate (${tenantId})`;
  // The otpauth label is `issuer:account`, so a colon in the issuer would split it wrongly.
  if (!/^[^:\p{Cc}]{1,64}$/u.test(issuer)) throw new InputError('totp.invalid_issuer', 'issuer must be 1–64 printable characters without ":"');
  const secret = generateSecret({ length: 20 });
  const uri = await inTenant(deps.db, tenantId, async (sql) => {
    const user = isUuid(userId)
      ? (await sql.query<{ username: string }>('SELECT username FROM users WHERE tenant_id = $1 AND id = $2', [tenantId, userId])).rows[0]
      : undefined;
    if (!user) throw new NotFoundError('user.not_found', `user ${userId} does not exist in tenant "${tenantId}"`);
    const { rowCount } = await sql.query(
      `INSERT INTO totp_credentials (tenant_id, user_id, secret) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id, user_id) DO UPDATE SET secret = excluded.secret, confirmed = false, last_step = 0, updated_at = now()
       WHERE NOT totp_credentials.confirmed OR $4`,
      [tenantId, userId, deps.dataKey.seal(secret, secretContext(tenantId, userId)), options.replace === true],
    );
    if (rowCount !== 1) throw new ConflictError('totp.already_enrolled', 'TOTP is already enrolled for this user; replace it explicitly to enroll a new authenticator');
    await appendAudit(sql, tenantId, { type: 'totp.enrollment_started', actor: options.actor ?? userId, subject: userId, data: { replace: options.replace === true } });
    return generateURI({ issuer, label: user.username, secret });
  });
  return { secret, uri, qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M' }) };
}

/** Matches `code` against `secret` at ±1 step of `nowMs`, returning the matched step. */
async function matchTotpCode(secret: string, code: string, nowMsValue: number): Promise<number | null> {
  if (!CODE.test(code)) return null;
  const r = await verify({ secret, token: code, epoch: Math.floor(nowMsValue / 1000), period: PERIOD_S, epochTolerance: PERIOD_S });
  return r.valid && 'timeStep' in r ? r.timeStep : null;
}

type TotpRow = { secret: string; confirmed: boolean; last_step: string | number };

// Checked against when the user has no TOTP, so that case does the same work as a wrong code.
const DUMMY_SECRET = generateSecret({ length: 20 });

/** Accepts `code` once for `userId`: advances last_step atomically, or reports why not. */
async function acceptCode(deps: AccountDeps, tenantId: string, userId: string | null, code: string, requireConfirmed: boolean): Promise<TotpCheck> {
  const row = userId === null ? undefined : (
    await deps.db.withTenant(tenantId, (sql) =>
      sql.query<TotpRow>('SELECT secret, confirmed, last_step FROM totp_credentials WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]),
    )
  ).rows[0];
  const usable = row !== undefined && row.confirmed === requireConfirmed;
  const secret = usable ? deps.dataKey.open(row.secret, secretContext(tenantId, userId!)).toString('utf8') : DUMMY_SECRET;
  const step = await matchTotpCode(secret, code, nowMs(deps));
  if (!usable) return { ok: false, reason: 'no_credential' };
  if (step === null) return { ok: false, reason: 'invalid_credentials' };
  if (step <= Number(row.last_step)) return { ok: false, reason: 'replay' };
  // Only one request can move last_step past this step; a concurrent reuse updates no row.
  const { rowCount } = await deps.db.withTenant(tenantId, (sql) =>
    sql.query(
      `UPDATE totp_credentials SET last_step = $3, confirmed = true, updated_at = now()
       WHERE tenant_id = $1 AND user_id = $2 AND last_step < $3 AND confirmed = $4`,
      [tenantId, userId, step, requireConfirmed],
    ),
  );
  return rowCount === 1 ? { ok: true, step } : { ok: false, reason: 'replay' };
}

/**
 * Finishes enrollment with a first valid code (through the TOTP lockout, so a pending
 * enrollment cannot be brute-forced). Wrong code → InputError `totp.invalid_code`.
 */
export async function confirmTotpEnrollment(deps: AccountDeps, tenantId: string, userId: string, code: string, actor: string = userId): Promise<void> {
  validateTenantId(tenantId);
  const result = await attemptFactor(deps, tenantId, userId, userId, 'totp', async () => {
    const r = isUuid(userId) ? await acceptCode(deps, tenantId, userId, code, false) : ({ ok: false, reason: 'no_credential' } as const);
    if (!r.ok && r.reason === 'no_credential') throw new NotFoundError('totp.no_pending_enrollment', 'no pending TOTP enrollment for this user');
    return r;
  });
  if (!result.ok) throw new InputError('totp.invalid_code', 'the code does not match; check the authenticator app and the device clock');
  await deps.db.withTenant(tenantId, (sql) => appendAudit(sql, tenantId, { type: 'totp.enrolled', actor, subject: userId }));
}

/**
 * Checks a TOTP code through the lockout (RateLimitError `factor.locked` while locked or when
 * this failure locks it). `userId` null means no such user: same work, same failure.
 */
export async function checkTotp(deps: AccountDeps, tenantId: string, lockSubject: string, userId: string | null, code: string): Promise<TotpCheck> {
  validateTenantId(tenantId);
  return attemptFactor(deps, tenantId, lockSubject, userId, 'totp', () =>
    acceptCode(deps, tenantId, userId !== null && isUuid(userId) ? userId : null, typeof code === 'string' ? code : '', true),
  );
}

/** verifyTotp for a known user id: true when the code is valid and not yet used. */
export async function verifyTotp(deps: AccountDeps, tenantId: string, userId: string, code: string): Promise<boolean> {
  return (await checkTotp(deps, tenantId, userId, userId, code)).ok;
}

/** Seals TOTP secrets stored in clear before sealing; returns how many. */
export async function sealLegacyTotpSecrets(sql: Sql, dataKey: DataKey, tenantId: string): Promise<number> {
  const { rows: clear } = await sql.query<{ user_id: string; secret: string }>('SELECT user_id, secret FROM totp_credentials WHERE secret NOT LIKE $1', [SEALED_LIKE]);
  for (const r of clear) {
    await sql.query('UPDATE totp_credentials SET secret = $3 WHERE tenant_id = $1 AND user_id = $2 AND secret = $4', [
      tenantId, r.user_id, dataKey.seal(r.secret, secretContext(tenantId, r.user_id)), r.secret,
    ]);
  }
  return clear.length;
}

/** Whether the user has a TOTP authenticator, confirmed (usable) or pending, and since when. */
export async function totpStatus(db: AccountDeps['db'], tenantId: string, userId: string): Promise<{ confirmed: boolean; updatedAt: Date } | null> {
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<{ confirmed: boolean; updated_at: Date }>('SELECT confirmed, updated_at FROM totp_credentials WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]),
  );
  return rows[0] ? { confirmed: rows[0].confirmed, updatedAt: new Date(rows[0].updated_at) } : null;
}

/** Removes the user's TOTP authenticator (audited); false when they had none. */
export async function removeTotp(db: AccountDeps['db'], tenantId: string, userId: string, actor: string): Promise<boolean> {
  return inTenant(db, tenantId, async (sql) => {
    const { rowCount } = await sql.query('DELETE FROM totp_credentials WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
    if (rowCount === 1) await appendAudit(sql, tenantId, { type: 'totp.removed', actor, subject: userId });
    return rowCount === 1;
  });
}
