/**
 * Walks a tenant's audit chain from the genesis row and reports the first row that does not
 * hold: a missing seq (deleted or reordered row), a prev_hash that is not the previous row's
 * hash (inserted/removed row or re-hashed edit), or a hash that does not match the row's content
 * (edited row). A removed tail is not detectable from the chain alone.
 */
import type { Database } from '../store/db.ts';
import { eventHash, GENESIS_HASH } from './hash.ts';

export type AuditProblem = { seq: number; reason: 'hash_mismatch' | 'broken_link' | 'gap' };
export type AuditVerification = { ok: boolean; checked: number; problem?: AuditProblem };

type AuditRow = {
  seq: string | number;
  at: Date | string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
};

const BATCH = 1000;

export async function verifyAuditChain(db: Database, tenantId: string): Promise<AuditVerification> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    // Keyset pages keep memory flat on long logs; each page is its own short transaction.
    const rows = await db.withTenant(tenantId, async (sql) =>
      (
        await sql.query<AuditRow>(
          `SELECT seq, at, type, actor, subject, data, prev_hash, hash FROM audit_events
           WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT ${BATCH}`,
          [tenantId, expectedSeq],
        )
      ).rows,
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return { ok: false, checked, problem: { seq: expectedSeq, reason: 'gap' } };
      if (row.prev_hash !== prevHash) return { ok: false, checked, problem: { seq, reason: 'broken_link' } };
      const hash = eventHash({
        tenant_id: tenantId,
        seq,
        at: new Date(row.at).toISOString(),
        type: row.type,
        actor: row.actor,
        subject: row.subject,
        data: row.data,
        prev_hash: row.prev_hash,
      });
      if (hash !== row.hash) return { ok: false, checked, problem: { seq, reason: 'hash_mismatch' } };
      checked++;
      expectedSeq++;
      prevHash = row.hash;
    }
    if (rows.length < BATCH) return { ok: true, checked };
  }
}
