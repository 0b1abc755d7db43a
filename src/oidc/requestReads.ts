/**
 * Reads one provider request has already started, kept for that request only. A token request
 * reads its refresh token (or code), then the grant, the session and the account it names, one
 * after the other; the adapter starts the later reads as soon as the first returns (adapter.ts
 * `readAhead`) and leaves them here for the lookups that follow. Nothing outlives the request,
 * so nothing goes stale: each read is a moment earlier in the same request, as if the later
 * lookups had been made then. Each is handed out once; a write to its row in the request drops
 * it first.
 */
import Provider from 'oidc-provider';

/** Keyed by oidc-provider's request context (its AsyncLocalStorage store): gone with the request. */
const byRequest = new WeakMap<object, Map<string, unknown>>();

function current(create: boolean): Map<string, unknown> | undefined {
  const ctx = Provider.ctx;
  if (!ctx) return undefined;
  let reads = byRequest.get(ctx);
  if (!reads && create) byRequest.set(ctx, (reads = new Map()));
  return reads;
}

/** Whether this runs inside a provider request (where what is kept here would be used). */
export function inRequest(): boolean {
  return Provider.ctx !== undefined;
}

/** Keeps what was read under `key` (null: known to be absent) for this request, if there is one. */
export function keepForRequest(key: string, value: unknown): void {
  current(true)?.set(key, value ?? null);
}

/** What this request read under `key` (null when known absent), removed; `undefined` when it did not. */
export function takeFromRequest<T>(key: string): T | null | undefined {
  const reads = current(false);
  if (!reads?.has(key)) return undefined;
  const value = reads.get(key) as T | null;
  reads.delete(key);
  return value;
}

/** Drops what this request read under keys starting with `prefix` (they are about to change). */
export function forgetForRequest(prefix: string): void {
  const reads = current(false);
  if (!reads) return;
  for (const key of reads.keys()) if (key.startsWith(prefix)) reads.delete(key);
}
