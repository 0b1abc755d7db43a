/** Audit events of sign-in attempts and lockouts, in their own short transaction. */
import { appendAudit } from '../audit/log.ts';
import type { Database } from '../store/db.ts';
import type { Factor, Refusal } from './attemptLimits.ts';

export type SigninOutcome =
  | { ok: true; userId: string }
  /** `userId` null: the username does not exist (not recorded, it may be a mistyped secret). */
  | { ok: false; userId: string | null; reason: 'invalid_credentials' | 'replay' | 'locked' | 'no_credential' };

export async function auditSignin(db: Database, tenantId: string, factor: Factor, outcome: SigninOutcome): Promise<void> {
  await db.withTenant(tenantId, (sql) =>
    appendAudit(sql, tenantId, {
      type: outcome.ok ? 'signin.success' : 'signin.failure',
      actor: outcome.userId ?? undefined,
      subject: outcome.userId ?? undefined,
      data: outcome.ok ? { factor } : { factor, reason: outcome.reason, known_user: outcome.userId !== null },
    }),
  );
}

/** Records, once, that a failure just locked `factor` (pin, totp) or disabled it (face). */
export async function auditLockout(db: Database, tenantId: string, userId: string | null, factor: Factor, limit: Refusal): Promise<void> {
  await db.withTenant(tenantId, (sql) =>
    appendAudit(sql, tenantId, {
      type: limit.reason === 'disabled' ? 'factor.disabled' : 'factor.locked',
      subject: userId ?? undefined,
      data: { factor, known_user: userId !== null, ...(limit.reason === 'disabled' ? {} : { locked_seconds: Math.ceil(limit.waitMs / 1000) }) },
    }),
  );
}
