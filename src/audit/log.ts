/**
 * Appends one event to a tenant's keyed, hash-chained audit log. Runs inside the caller's tenant
 * transaction, so the event commits or rolls back with the change it records; the key and the
 * head's anchoring come with the transaction (`sql.audit`), so callers pass neither.
 */
import type { Sql } from '../store/db.ts';
import { FacegateError } from '../errors.ts';
import { GENESIS_HASH, type ChainedEvent } from './hash.ts';

export type AuditEvent = {
  /** Dotted event name, e.g. `signin.success`, `factor.locked`, `client.created`. */
  type: string;
  /** Who did it: a user id, `cli`, `admin:<name>`. */
  actor?: string;
  /** What it was done to: a user id, client id, tenant id. */
  subject?: string;
  /** Small, non-secret facts (factor, reason, scores). Never PINs, codes, secrets or biometric data. */
  data?: Record<string, unknown>;
};

const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,4}$/;
// Words that, as part of a data key, suggest a secret or biometric value.
const SENSITIVE_WORDS = new Set([
  'pin', 'code', 'otp', 'secret', 'password', 'passwd', 'passphrase', 'token', 'cookie', 'authorization',
  'key', 'embedding', 'embeddings', 'template', 'templates', 'image', 'images', 'frame', 'frames',
  'photo', 'biometric', 'descriptor', 'ciphertext', 'plaintext',
]);
// A trailing word that makes the key describe metadata about the thing, not the thing itself
// (`pinLength`, `templateVersion`, `frameCount`, `keyId`).
const METADATA_SUFFIXES = new Set(['id', 'ids', 'count', 'version', 'length', 'kind', 'type', 'at', 'step', 'method', 'set']);
const MAX_DATA_BYTES = 4096;
// Long numeric arrays look like embeddings or pixel data.
const MAX_NUMERIC_ARRAY = 16;

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function refuse(message: string): never {
  // A caller bug, not user input: 500, and the message names the key, never the value.
  throw new FacegateError('audit.sensitive_data', message, 500);
}

function assertHarmless(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    if (value.length > MAX_NUMERIC_ARRAY && value.every((v) => typeof v === 'number')) refuse(`audit data ${path} is a long numeric array`);
    value.forEach((v, i) => assertHarmless(v, `${path}[${i}]`));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    const words = keyWords(key);
    const last = words[words.length - 1];
    if (!METADATA_SUFFIXES.has(last ?? '') && words.some((w) => SENSITIVE_WORDS.has(w))) {
      refuse(`audit data key "${path}.${key}" looks like a secret or biometric value`);
    }
    assertHarmless(v, `${path}.${key}`);
  }
}

/** Throws unless `data` is small and has no key that looks like a secret or biometric value. */
export function assertAuditable(data: Record<string, unknown>): Record<string, unknown> {
  assertHarmless(data, 'data');
  // Stored and hashed in the form jsonb returns: plain JSON, no undefined, no class instances.
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) > MAX_DATA_BYTES) refuse(`audit data exceeds ${MAX_DATA_BYTES} bytes`);
  return JSON.parse(json) as Record<string, unknown>;
}

export async function appendAudit(sql: Sql, tenantId: string, event: AuditEvent): Promise<void> {
  if (!TYPE.test(event.type)) throw new FacegateError('audit.invalid_type', `invalid audit event type "${event.type}"`, 500);
  const data = assertAuditable(event.data ?? {});
  // One writer per tenant at a time: seq and prev_hash are read and written under this lock,
  // which is released when the caller's transaction ends.
  await sql.query(`SELECT pg_advisory_xact_lock(hashtext('audit:' || $1::text))`, [tenantId]);
  const last = await sql.query<{ seq: string | number; hash: string }>(
    'SELECT seq, hash FROM audit_events WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1',
    [tenantId],
  );
  const row: ChainedEvent = {
    tenant_id: tenantId,
    seq: last.rows.length ? Number(last.rows[0].seq) + 1 : 1,
    at: new Date().toISOString(),
    type: event.type,
    actor: event.actor ?? null,
    subject: event.subject ?? null,
    data,
    prev_hash: last.rows.length ? last.rows[0].hash : GENESIS_HASH,
    key_id: sql.audit.chain.keyId,
  };
  const hash = sql.audit.chain.hash(row);
  await sql.query(
    `INSERT INTO audit_events (tenant_id, seq, at, type, actor, subject, data, prev_hash, key_id, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)`,
    [row.tenant_id, row.seq, row.at, row.type, row.actor, row.subject, JSON.stringify(row.data), row.prev_hash, row.key_id, hash],
  );
  sql.audit.appended({ tenant: tenantId, seq: row.seq, hash });
}
