/**
 * The hash that chains audit rows: HMAC-SHA256 under the data key's `audit-chain` subkey over a
 * canonical JSON encoding (keys sorted at every level, no whitespace), so the same event always
 * hashes the same whatever order jsonb returns, and whoever can write the database but does not
 * hold the data key cannot recompute a consistent chain after editing rows. Each row names the
 * data key id it was chained with, so rotating the data key keeps older rows verifiable.
 */
import type { DataKey } from '../store/dataKey.ts';

/** First `prev_hash` of every tenant's chain. */
export const GENESIS_HASH = '0'.repeat(64);

export const CHAIN_PURPOSE = 'audit-chain';

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
  /** Id of the data key whose `audit-chain` subkey MACs this row. */
  key_id: string;
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

/** The row's hash under the key it names; throws ConfigError when that key id is not configured. */
export function eventHash(dataKey: DataKey, event: ChainedEvent): string {
  return dataKey.mac(CHAIN_PURPOSE, canonicalJson(event), event.key_id);
}
