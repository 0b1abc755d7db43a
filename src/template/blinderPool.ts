/**
 * Blinders made ahead of time, so the encryption they cost (one Enc_pk, ~4 ms on a quiet core at
 * N = 8192, several times the rest of a match) stays off the request path. A few per recently
 * seen template (the key names tenant, user and template version: a re-enrollment's new public key
 * never meets an old blinder), refilled in the background after each use and after enrollment.
 * Each holds ~525 KB of process memory, so the number of templates kept is bounded (least recently
 * used dropped first); a miss costs the caller one synchronous blinder, never a wrong result.
 * A match that finds none ready while a refill for its template runs (a sign-in's start made it a
 * moment ago) waits for that refill's next blinder instead of making a second one beside it.
 * Refills run on this thread between requests (SEAL's WASM is single-threaded here).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { makeBlinder } from './blinder.ts';

export type BlinderPool = {
  /**
   * A blinder for the template `key`, removed from the pool: a ready one, else the next one a
   * running refill of `key` makes; undefined when none is ready and no refill runs.
   */
  take(key: string): Promise<Uint8Array | undefined>;
  /**
   * Tops up `key` in the background; `publicKey` resolves undefined once the template is gone or
   * replaced. The promise (never rejected) settles when that top-up is done; callers need not wait.
   */
  refill(key: string, publicKey: () => Promise<Uint8Array | undefined>): Promise<void>;
  /** How many blinders are ready for `key`. */
  count(key: string): number;
  /** Drops (and wipes) every blinder whose key starts with `prefix`. */
  forget(prefix: string): void;
  /** Resolves when no refill is running (tests, shutdown). */
  idle(): Promise<void>;
};

export function createBlinderPool(opts: { perTemplate: number; templates: number }): BlinderPool {
  const { perTemplate, templates } = opts;
  const ready = new Map<string, Uint8Array[]>();
  const running = new Map<string, Promise<void>>();
  /** Takers waiting for a running refill of the key: woken at each blinder it makes, and when it ends. */
  const waiting = new Map<string, (() => void)[]>();

  function wake(key: string): void {
    const list = waiting.get(key) ?? [];
    waiting.delete(key);
    for (const w of list) w();
  }

  function takeReady(key: string): Uint8Array | undefined {
    const list = ready.get(key);
    const blinder = list?.pop();
    if (list && list.length === 0) ready.delete(key);
    return blinder;
  }

  function drop(key: string): void {
    for (const blinder of ready.get(key) ?? []) blinder.fill(0);
    ready.delete(key);
  }

  function touch(key: string): Uint8Array[] {
    const list = ready.get(key) ?? [];
    // Map order is insertion order: re-inserting makes `key` the most recently used.
    ready.delete(key);
    ready.set(key, list);
    while (ready.size > templates) drop(ready.keys().next().value!);
    return list;
  }

  async function fill(key: string, publicKey: () => Promise<Uint8Array | undefined>): Promise<void> {
    // Let the request that triggered the refill finish first.
    await nextTurn();
    const pk = await publicKey();
    if (!pk) return drop(key);
    while ((ready.get(key)?.length ?? 0) < perTemplate) {
      const blinder = await makeBlinder(pk);
      touch(key).push(blinder);
      wake(key);
      await nextTurn();
    }
  }

  return {
    async take(key) {
      for (;;) {
        const blinder = takeReady(key);
        if (blinder || !running.has(key)) return blinder;
        await new Promise<void>((resolve) => waiting.set(key, [...(waiting.get(key) ?? []), resolve]));
      }
    },
    refill(key, publicKey) {
      const current = running.get(key);
      if (current) return current;
      if ((ready.get(key)?.length ?? 0) >= perTemplate) return Promise.resolve();
      // A failed refill (database gone, template removed meanwhile) only leaves the pool short:
      // the next match makes its blinder itself and reports any error there.
      const job = fill(key, publicKey)
        .catch(() => drop(key))
        .finally(() => {
          running.delete(key);
          wake(key);
        });
      running.set(key, job);
      return job;
    },
    count: (key) => ready.get(key)?.length ?? 0,
    forget(prefix) {
      for (const key of [...ready.keys()]) if (key.startsWith(prefix)) drop(key);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running.values());
    },
  };
}
