/**
 * A user's sign-in history, read from the audit log: when, which client, which method, which
 * level (acr), passed or failed. Only those fields are ever read out of an event's data — never
 * a score or anything biometric, whatever an event carries.
 */
import { inTenant } from '../account/tenants.ts';
import type { Database } from '../store/db.ts';

export type SignInEvent = { at: Date; clientId: string | null; clientName: string | null; method: string; acr: string | null; passed: boolean; reason: string | null };

/** 50 most recent events: a screenful; the export carries up to 1000. */
export const HISTORY_PAGE = 50;

const TYPES = ['signin.completed', 'signin.failure', 'signin.unmet_acr'];
const REASONS = new Set(['invalid_credentials', 'replay', 'locked', 'no_credential', 'rejected', 'not_live', 'no_match', 'disabled']);

type Row = { at: Date; type: string; data: Record<string, unknown>; client_name: string | null; client_id: string | null };

const text = (v: unknown) => (typeof v === 'string' && v.length <= 128 ? v : null);

export async function signInHistory(db: Database, tenantId: string, userId: string, limit = HISTORY_PAGE): Promise<SignInEvent[]> {
  const { rows } = await inTenant(db, tenantId, (sql) =>
    sql.query<Row>(
      `SELECT e.at, e.type, e.data, c.metadata->>'client_name' AS client_name,
              CASE e.type WHEN 'signin.unmet_acr' THEN e.subject ELSE e.data->>'clientId' END AS client_id
         FROM audit_events e
         LEFT JOIN clients c ON c.tenant_id = e.tenant_id
              AND c.client_id = CASE e.type WHEN 'signin.unmet_acr' THEN e.subject ELSE e.data->>'clientId' END
        WHERE e.tenant_id = $1 AND e.actor = $2 AND e.type = ANY($3)
        ORDER BY e.seq DESC LIMIT $4`,
      [tenantId, userId, TYPES, limit],
    ),
  );
  return rows.map((r) => {
    const amr = Array.isArray(r.data.amr) ? r.data.amr.filter((a): a is string => typeof a === 'string') : [];
    const reason = text(r.data.reason);
    return {
      at: new Date(r.at),
      clientId: r.client_id,
      clientName: r.client_name ?? r.client_id,
      method: r.type === 'signin.completed' ? amr.join(' + ') : r.type === 'signin.failure' ? (text(r.data.factor) ?? '') : '',
      acr: r.type === 'signin.completed' ? text(r.data.acr) : r.type === 'signin.unmet_acr' ? text(r.data.required) : null,
      passed: r.type === 'signin.completed',
      reason: r.type === 'signin.unmet_acr' ? 'level not reached' : reason && REASONS.has(reason) ? reason.replaceAll('_', ' ') : null,
    };
  });
}
