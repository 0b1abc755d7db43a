/**
 * Walks a tenant's audit chain from the genesis row and reports the first row that does not
 * hold: a missing seq (deleted or reordered row), a prev_hash that is not the previous row's
 * hash (inserted/removed row), a MAC that does not match the row's content under the data key it
 * names (edited row, or a chain recomputed without the key), or a row with no key at all. A
 * removed tail leaves a consistent shorter chain, so it is caught only against an anchored head
 * (audit/anchor.ts): the anchored seq must exist and carry the anchored hash.
 */
import type { Database } from '../store/db.ts';
import { ConfigError } from '../errors.ts';
import { GENESIS_HASH } from './hash.ts';
import type { AnchoredHead } from './anchor.ts';

export type AuditProblem = {
  seq: number;
  reason: 'hash_mismatch' | 'broken_link' | 'gap' | 'unkeyed' | 'unknown_key' | 'truncated' | 'anchor_mismatch';
};
export type AuditVerification = {
  ok: boolean;
  checked: number;
  /** When ok, the newest row (absent for an empty log): anchor it (`seq:hash`) to catch a later truncation. */
  head?: AnchoredHead;
  problem?: AuditProblem;
};

type AuditRow = {
  seq: string | number;
  at: Date | string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  key_id: string | null;
  hash: string;
  redaction_mac: string | null;
};

const BATCH = 1000;

/** `expectHeads`: heads anchored earlier, which the chain must still contain. */
export async function verifyAuditChain(db: Database, tenantId: string, expectHeads: AnchoredHead[] = []): Promise<AuditVerification> {
  const anchoredAt = new Map<number, string[]>();
  for (const h of expectHeads) anchoredAt.set(h.seq, [...(anchoredAt.get(h.seq) ?? []), h.hash]);
  const highestAnchored = Math.max(0, ...expectHeads.map((h) => h.seq));
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  let head: AnchoredHead | undefined;
  const fail = (problem: AuditProblem): AuditVerification => ({ ok: false, checked, problem });
  for (;;) {
    // Keyset pages keep memory flat on long logs; each page is its own short transaction.
    const rows = await db.withTenant(tenantId, async (sql) =>
      (
        await sql.query<AuditRow>(
          `SELECT seq, at, type, actor, subject, data, prev_hash, key_id, hash, redaction_mac FROM audit_events
           WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT ${BATCH}`,
          [tenantId, expectedSeq],
        )
      ).rows,
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return fail({ seq: expectedSeq, reason: 'gap' });
      if (row.prev_hash !== prevHash) return fail({ seq, reason: 'broken_link' });
      if (row.key_id === null) return fail({ seq, reason: 'unkeyed' });
      let hash: string;
      try {
        hash = db.audit.hash({
          tenant_id: tenantId,
          seq,
          at: new Date(row.at).toISOString(),
          type: row.type,
          actor: row.actor,
          subject: row.subject,
          data: row.data,
          prev_hash: row.prev_hash,
          key_id: row.key_id,
        });
      } catch (e) {
        if (e instanceof ConfigError) return fail({ seq, reason: 'unknown_key' });
        throw e;
      }
      // A pseudonymized row (audit/redaction.ts) no longer matches its chain hash; its redaction MAC must hold instead.
      const redacted = hash !== row.hash && row.redaction_mac !== null
        && db.audit.redactionHolds({ tenant_id: tenantId, seq, actor: row.actor, subject: row.subject, data: row.data, hash: row.hash }, row.redaction_mac);
      if (hash !== row.hash && !redacted) return fail({ seq, reason: 'hash_mismatch' });
      if (anchoredAt.get(seq)?.some((h) => h !== row.hash)) return fail({ seq, reason: 'anchor_mismatch' });
      checked++;
      expectedSeq++;
      prevHash = row.hash;
      head = { seq, hash };
    }
    if (rows.length < BATCH) break;
  }
  if (checked < highestAnchored) return fail({ seq: checked + 1, reason: 'truncated' });
  return { ok: true, checked, ...(head && { head }) };
}
