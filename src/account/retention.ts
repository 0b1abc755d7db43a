/**
 * Retention: what facegate keeps, and for how long, per tenant. BIPA (740 ILCS 14/15(a)) asks
 * that biometric data be destroyed within 3 years of the individual's last interaction, so a face
 * template not matched (or enrolled) for `faceUnusedDays` (default 1095) is deleted as the user
 * deleting it would be (key shredded, audited `face.data_deleted` by `retention`). Audit rows
 * older than `auditDays` (default 1095, at least 30) are pruned as a prefix of the chain, and the
 * pruned head is recorded in the chain (`audit.pruned`) so what is left still verifies from it
 * (audit/verify.ts). Expired OIDC rows — stale interactions, sessions, codes, tokens — are purged.
 * Run by `facegate retention run` and on a timer in the server.
 */
import { appendAudit } from '../audit/log.ts';
import { InputError } from '../errors.ts';
import { deleteFaceData, type DeletionDeps } from './deletion.ts';
import { inTenant, listTenants } from './tenants.ts';

export type RetentionPolicy = { faceUnusedDays: number; auditDays: number };

/** Three years, the BIPA ceiling for biometric data; the audit log is kept as long by default. */
export const DEFAULT_RETENTION: RetentionPolicy = { faceUnusedDays: 1095, auditDays: 1095 };
/** Bounds of the settings (the audit floor is also enforced by the database, migrations/0008). */
const LIMITS = { faceUnusedDays: [1, 36500], auditDays: [30, 36500] } as const;
const DAY_MS = 86_400_000;

export type RetentionReport = { tenant: string; facesDeleted: number; auditPruned: number; oidcRows: number };

export async function retentionPolicy(deps: Pick<DeletionDeps, 'db'>, tenantId: string): Promise<RetentionPolicy> {
  const { rows } = await inTenant(deps.db, tenantId, (sql) =>
    sql.query<{ face_unused_days: number | null; audit_days: number | null }>('SELECT face_unused_days, audit_days FROM retention_policies WHERE tenant_id = $1', [tenantId]),
  );
  return { faceUnusedDays: rows[0]?.face_unused_days ?? DEFAULT_RETENTION.faceUnusedDays, auditDays: rows[0]?.audit_days ?? DEFAULT_RETENTION.auditDays };
}

/** Changes the tenant's policy (the settings given), audited `retention.policy_set`. */
export async function setRetentionPolicy(deps: Pick<DeletionDeps, 'db'>, tenantId: string, change: Partial<RetentionPolicy>, actor: string): Promise<RetentionPolicy> {
  for (const [name, [min, max]] of Object.entries(LIMITS) as [keyof RetentionPolicy, readonly [number, number]][]) {
    const v = change[name];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new InputError('retention.invalid_days', `${name} must be a whole number of days from ${min} to ${max}`);
  }
  await inTenant(deps.db, tenantId, async (sql) => {
    await sql.query(
      `INSERT INTO retention_policies (tenant_id, face_unused_days, audit_days) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO UPDATE SET face_unused_days = coalesce($2, retention_policies.face_unused_days),
         audit_days = coalesce($3, retention_policies.audit_days), updated_at = now()`,
      [tenantId, change.faceUnusedDays ?? null, change.auditDays ?? null],
    );
    await appendAudit(sql, tenantId, { type: 'retention.policy_set', actor, subject: tenantId, data: { ...change } });
  });
  return retentionPolicy(deps, tenantId);
}

async function deleteUnusedFaces(deps: DeletionDeps, tenantId: string, cutoff: Date): Promise<number> {
  const { rows } = await deps.db.withTenant(tenantId, (sql) =>
    sql.query<{ user_id: string }>('SELECT user_id FROM face_templates WHERE tenant_id = $1 AND coalesce(last_used_at, created_at) < $2', [tenantId, cutoff]),
  );
  for (const { user_id } of rows) await deleteFaceData(deps, tenantId, user_id, 'retention');
  return rows.length;
}

/** Prunes the chain up to the newest row older than `cutoff`, recording the pruned head; returns how many rows. */
async function pruneAudit(deps: DeletionDeps, tenantId: string, cutoff: Date): Promise<number> {
  return deps.db.withTenant(tenantId, async (sql) => {
    // The writers' lock: no row is appended between choosing the head and recording it.
    await sql.query(`SELECT pg_advisory_xact_lock(hashtext('audit:' || $1::text))`, [tenantId]);
    const { rows } = await sql.query<{ seq: string; hash: string }>(
      // Never past the database's own 30-day floor (a run with a clock ahead would be refused).
      `SELECT seq, hash FROM audit_events WHERE tenant_id = $1 AND at < least($2::timestamptz, now() - interval '30 days')
         AND seq < coalesce((SELECT min(seq) FROM audit_events WHERE tenant_id = $1 AND at >= now() - interval '30 days'), 9223372036854775807)
       ORDER BY seq DESC LIMIT 1`,
      [tenantId, cutoff],
    );
    if (!rows[0]) return 0;
    const throughSeq = Number(rows[0].seq);
    const pruned = Number((await sql.query<{ n: string }>('SELECT prune_audit_events($1, $2) AS n', [tenantId, throughSeq])).rows[0].n);
    await appendAudit(sql, tenantId, { type: 'audit.pruned', actor: 'retention', subject: tenantId, data: { throughSeq, throughHash: rows[0].hash, rows: pruned } });
    return pruned;
  });
}

/** Applies the policy of each tenant (all when `tenants` is not given) as of `now`. */
export async function runRetention(deps: DeletionDeps, options: { now?: Date; tenants?: string[] } = {}): Promise<RetentionReport[]> {
  const now = options.now ?? new Date();
  const tenants = options.tenants ?? (await listTenants(deps.db)).map((t) => t.id);
  const reports: RetentionReport[] = [];
  for (const tenant of tenants) {
    const policy = await retentionPolicy(deps, tenant);
    const facesDeleted = await deleteUnusedFaces(deps, tenant, new Date(now.getTime() - policy.faceUnusedDays * DAY_MS));
    const oidcRows = (await deps.db.statement(tenant, 'DELETE FROM oidc_payloads WHERE expires_at <= $1', [now])).rowCount;
    const auditPruned = await pruneAudit(deps, tenant, new Date(now.getTime() - policy.auditDays * DAY_MS));
    if (facesDeleted + oidcRows + auditPruned > 0) {
      await deps.db.withTenant(tenant, (sql) => appendAudit(sql, tenant, { type: 'retention.run', actor: 'retention', subject: tenant, data: { facesDeleted, oidcRows, auditPruned } }));
    }
    reports.push({ tenant, facesDeleted, auditPruned, oidcRows });
  }
  return reports;
}

/**
 * Runs retention every `intervalMs` (default 6 h) until the returned function is called; the
 * timer does not keep the process alive, and a run still going when stopped is awaited.
 */
export function scheduleRetention(deps: DeletionDeps, onError: (err: unknown) => void, intervalMs = 6 * 3_600_000): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = runRetention(deps).catch(onError).finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
