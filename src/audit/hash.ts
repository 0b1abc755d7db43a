/**
 * The hash that chains audit rows: SHA-256 over a canonical JSON encoding (keys sorted at every
 * level, no whitespace), so the same event always hashes the same whatever order jsonb returns.
 */
import { createHash } from 'node:crypto';

/** First `prev_hash` of every tenant's chain. */
export const GENESIS_HASH = '0'.repeat(64);

export type ChainedEvent = {
  tenant_id: string;
  seq: number;
  /** ISO 8601 with milliseconds, as `Date.prototype.toISOString` writes it. */
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
};

/** JSON with object keys sorted recursively; `undefined` members are dropped like JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function eventHash(event: ChainedEvent): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}
