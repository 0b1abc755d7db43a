/**
 * Pseudonymizing a deleted user's past audit rows without breaking the chain. A row's chain hash
 * covers its original content, so it cannot be recomputed after the user's id and name are
 * replaced; instead the rewritten row keeps its original hash (the links stay intact) and carries
 * a redaction MAC under the data key over its new content and that hash. Verification accepts a
 * row whose content matches either its chain hash or its redaction MAC: whoever edits a row
 * without the data key is still detected, and seq, time, type and links cannot be rewritten
 * (the app role may update only actor, subject, data and the MAC; migrations/0008).
 */
import type { Sql } from '../store/db.ts';
import type { DataKey } from '../store/dataKey.ts';
import { canonicalJson } from './hash.ts';

const PURPOSE = 'audit-redaction';

/** What a redaction MAC covers: the row's place, its new content, and its original chain hash. */
export type RedactedContent = {
  tenant_id: string;
  seq: number;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  hash: string;
};

/** `<key id>:<mac>` under the current data key. */
export function redactionMac(dataKey: DataKey, content: RedactedContent): string {
  return `${dataKey.currentId}:${dataKey.mac(PURPOSE, canonicalJson(content))}`;
}

/** Whether `stored` is the redaction MAC of `content` under the key it names (false for an unknown key). */
export function redactionHolds(dataKey: DataKey, content: RedactedContent, stored: string): boolean {
  const colon = stored.indexOf(':');
  if (colon < 1) return false;
  try {
    return dataKey.mac(PURPOSE, canonicalJson(content), stored.slice(0, colon)) === stored.slice(colon + 1);
  } catch {
    return false;
  }
}

function replaceStrings(value: unknown, identifiers: Set<string>, pseudonym: string): unknown {
  if (typeof value === 'string') return identifiers.has(value) ? pseudonym : value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, identifiers, pseudonym));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, identifiers, pseudonym)]));
  }
  return value;
}

/**
 * Rewrites every audit row of the tenant that names one of `identifiers` (as actor, subject or
 * any string inside data) to name `pseudonym` instead, with its redaction MAC. Returns how many.
 */
export async function pseudonymizeAuditRows(sql: Sql, tenantId: string, identifiers: string[], pseudonym: string): Promise<number> {
  const ids = new Set(identifiers.filter(Boolean));
  if (ids.size === 0) return 0;
  const { rows } = await sql.query<{ seq: string; actor: string | null; subject: string | null; data: Record<string, unknown>; hash: string }>(
    `SELECT seq, actor, subject, data, hash FROM audit_events
     WHERE tenant_id = $1 AND (actor = ANY($2) OR subject = ANY($2)
       OR EXISTS (SELECT 1 FROM jsonb_path_query(data, 'strict $.**') v WHERE jsonb_typeof(v) = 'string' AND v #>> '{}' = ANY($2)))
     ORDER BY seq`,
    [tenantId, [...ids]],
  );
  for (const row of rows) {
    const content: RedactedContent = {
      tenant_id: tenantId,
      seq: Number(row.seq),
      actor: row.actor !== null && ids.has(row.actor) ? pseudonym : row.actor,
      subject: row.subject !== null && ids.has(row.subject) ? pseudonym : row.subject,
      data: replaceStrings(row.data, ids, pseudonym) as Record<string, unknown>,
      hash: row.hash,
    };
    await sql.query('UPDATE audit_events SET actor = $3, subject = $4, data = $5::jsonb, redaction_mac = $6 WHERE tenant_id = $1 AND seq = $2', [
      tenantId,
      content.seq,
      content.actor,
      content.subject,
      JSON.stringify(content.data),
      sql.audit.chain.redactionMac(content),
    ]);
  }
  return rows.length;
}
