/** Audit events of sign-in attempts and lockouts, in their own short transaction. */
import { appendAudit } from '../audit/log.ts';
import { RateLimitError } from '../errors.ts';
import type { Database } from '../store/db.ts';
import type { Factor } from './lockout.ts';

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

/** Records that `factor` just locked; `error` is the RateLimitError recordFailure threw. */
export async function auditLockout(db: Database, tenantId: string, userId: string | null, factor: Factor, error: unknown): Promise<void> {
  if (!(error instanceof RateLimitError)) return;
  await db.withTenant(tenantId, (sql) =>
    appendAudit(sql, tenantId, {
      type: 'factor.locked',
      subject: userId ?? undefined,
      data: { factor, locked_seconds: error.retryAfterSeconds, known_user: userId !== null },
    }),
  );
}
