/**
 * Templates read ahead of their match: a face sign-in's start reads the user's template (524 KB
 * at N = 8192: tens of ms of database and driver time, most of what the match waited for) seconds
 * before the upload, and the upload's match takes it from here after checking, with a read of the
 * version alone, that it is still the user's current template. An entry (one per user) is taken
 * once (a match never reuses another's read), at most `limit` wait (the oldest dropped first), and
 * none is used or kept past TTL_MS: nothing outlives the sign-in it was read for. Only ciphertexts
 * under the user's key are held, as in the database.
 */
import { CAPTURE_NONCE_TTL_MS } from '../faceLogin/captureNonce.ts';
import type { MatchableTemplate } from './templateStore.ts';

/** A face sign-in's upload follows its start within the capture nonce's life. */
export const TTL_MS = CAPTURE_NONCE_TTL_MS;

export type TemplatePrefetch = {
  put(key: string, template: MatchableTemplate): void;
  /** Whether a template read for `key` waits (and is not yet too old to use). */
  holds(key: string): boolean;
  /** The template read for `key`, removed; undefined when none waits. */
  take(key: string): MatchableTemplate | undefined;
  /** Drops every entry whose key starts with `prefix`. */
  forget(prefix: string): void;
};

export function createTemplatePrefetch(limit: number, now: () => number = Date.now): TemplatePrefetch {
  const waiting = new Map<string, { template: MatchableTemplate; at: number }>();
  return {
    put(key, template) {
      for (const [k, entry] of waiting) if (now() - entry.at >= TTL_MS) waiting.delete(k);
      waiting.delete(key);
      waiting.set(key, { template, at: now() });
      while (waiting.size > limit) waiting.delete(waiting.keys().next().value!);
    },
    holds(key) {
      const entry = waiting.get(key);
      return entry !== undefined && now() - entry.at < TTL_MS;
    },
    take(key) {
      const entry = waiting.get(key);
      waiting.delete(key);
      return entry && now() - entry.at < TTL_MS ? entry.template : undefined;
    },
    forget(prefix) {
      for (const key of [...waiting.keys()]) if (key.startsWith(prefix)) waiting.delete(key);
    },
  };
}
