/**
 * The custodian's secret-key work (key pairs, decisions) runs in one worker thread (keyWorker.ts)
 * that is replaced periodically, so unsealed keys never enter the main thread's SEAL heap and the
 * worker's heap does not keep them for long. SEAL frees memory without clearing it: a decryption
 * leaves, in freed WebAssembly memory, temporaries such as c₁·s from which s follows, and only a
 * fresh heap is known to be clean. After RECYCLE_AFTER_JOBS jobs, or RECYCLE_AFTER_MS after it was
 * ready, a worker gets a successor; it serves on until the successor is ready (jobs arriving
 * meanwhile, ~1 s of them, exceed its quota), then finishes what it holds and exits, so no request
 * waits for a start.
 *
 * RECYCLE_AFTER_JOBS / RECYCLE_AFTER_MS: a start costs ~0.6–1 s of CPU (SEAL's N = 8192 context:
 * prime and NTT tables for every level, measured in a worker on the 2-core VM) on the other core,
 * off the request path. 1,000 jobs put it at ≤ 1 ms per decision amortized (at the design's 30 face
 * steps/s, one start every 33 s, ~2–3 % of one core) and bound the keys a heap can have seen to
 * 1,000 decisions; 10 minutes bounds how long an idle custodian keeps the last ones (one start per
 * 10 minutes idle, ~0.2 % of a core).
 */
import { Worker } from 'node:worker_threads';
import { FacegateError, InputError } from '../errors.ts';
import type { Decryption } from './decryptDecision.ts';
import type { KeyAnswer, KeyWork } from './keyWorker.ts';

export const RECYCLE_AFTER_JOBS = 1000;
export const RECYCLE_AFTER_MS = 10 * 60_000;

export type KeyThread = {
  /** A new key pair: the compact secret (moved to the caller, who seals and wipes it) and the public key. */
  createKey(): Promise<{ secret: Uint8Array; publicKey: Uint8Array }>;
  /** decryptDecision in the worker; `secret` is moved there and wiped, the caller's copy is wiped too. */
  decide(secret: Uint8Array, ciphertext: Uint8Array): Promise<Decryption>;
  /** Resolves once a worker is started and has SEAL's context (a service waits for it before listening). */
  ready(): Promise<void>;
  /** Workers started so far, and those not yet exited (tests). */
  counts(): { started: number; alive: number };
  /** Stops every worker; jobs in flight fail. */
  close(): Promise<void>;
};

type Pending = { resolve(value: unknown): void; reject(e: unknown): void };
type Slot = { worker: Worker; ready: Promise<void>; jobs: number; pending: Map<number, Pending>; retired: boolean; timer?: NodeJS.Timeout };

function errorOf(error: Extract<KeyAnswer, { ok: false }>['error']): Error {
  if (error.code === undefined) return new FacegateError('custodian.key_thread', 'the custodian’s key thread failed', 500);
  return error.input ? new InputError(error.code, error.message, error.status) : new FacegateError(error.code, error.message, error.status);
}

export function createKeyThread(opts: { recycleAfterJobs?: number; recycleAfterMs?: number } = {}): KeyThread {
  const { recycleAfterJobs = RECYCLE_AFTER_JOBS, recycleAfterMs = RECYCLE_AFTER_MS } = opts;
  let nextId = 0;
  let started = 0;
  let alive = 0;
  /** The worker jobs go to. */
  let current: Slot | undefined;
  /** Its successor while that one starts; it takes over once ready. */
  let successor: Slot | undefined;

  /** A retired worker exits once it has answered everything it was given. */
  function retire(slot: Slot): void {
    slot.retired = true;
    clearTimeout(slot.timer);
    if (slot.pending.size === 0) void slot.worker.terminate();
  }

  function start(): Slot {
    started++;
    alive++;
    const worker = new Worker(new URL('./keyWorker.ts', import.meta.url));
    // Idle, the thread must not keep the process alive; with a job in flight it must (ref in run).
    worker.unref();
    let signalReady = () => {};
    let failReady = (_: unknown) => {};
    const ready = new Promise<void>((resolve, reject) => {
      signalReady = resolve;
      failReady = reject;
    });
    // Nobody need be waiting for it.
    ready.catch(() => {});
    const slot: Slot = { worker, ready, jobs: 0, pending: new Map(), retired: false };
    worker.on('message', (answer: KeyAnswer | 'ready') => {
      if (answer === 'ready') {
        // Unref'd: an idle custodian still gets a fresh heap every recycleAfterMs; a finished process is not held.
        slot.timer = setTimeout(() => slot === current && rotate(), recycleAfterMs).unref();
        if (slot === successor) {
          successor = undefined;
          const old = current;
          current = slot;
          if (old) retire(old);
        }
        return signalReady();
      }
      const p = slot.pending.get(answer.id);
      if (!p) return;
      slot.pending.delete(answer.id);
      if (slot.pending.size === 0) worker.unref();
      if (answer.ok) p.resolve(answer.value);
      else p.reject(errorOf(answer.error));
      if (slot.retired && slot.pending.size === 0) void worker.terminate();
    });
    const fail = (e: unknown) => {
      const error = new FacegateError('custodian.key_thread', `the custodian’s key thread stopped: ${String(e)}`, 500);
      failReady(error);
      for (const p of slot.pending.values()) p.reject(error);
      slot.pending.clear();
      clearTimeout(slot.timer);
      if (slot === current) current = undefined;
      if (slot === successor) successor = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      alive--;
      fail(`exit ${code}`);
    });
    return slot;
  }

  /** Starts a successor; the current worker serves until it is ready. */
  function rotate(): void {
    if (!successor) successor = start();
  }

  function run<T>(job: KeyWork, transfer: ArrayBuffer[] = []): Promise<T> {
    current ??= start();
    const slot = current;
    const id = ++nextId;
    const answer = new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as Pending['resolve'], reject });
    });
    slot.worker.ref();
    slot.worker.postMessage({ ...job, id }, transfer);
    // Jobs that arrive while the successor starts (~1 s) still go here: none waits for a start.
    if (++slot.jobs >= recycleAfterJobs) rotate();
    return answer;
  }

  return {
    createKey: () => run({ op: 'create' }),
    decide(secret, ciphertext) {
      // A copy of its own to move (a small Buffer shares node's pool slab, which cannot move).
      const moved = new Uint8Array(secret);
      secret.fill(0);
      return run({ op: 'decide', secret: moved, ciphertext }, [moved.buffer]);
    },
    async ready() {
      current ??= start();
      const slot = current;
      slot.worker.ref();
      try {
        await slot.ready;
      } finally {
        if (slot.pending.size === 0) slot.worker.unref();
      }
    },
    counts: () => ({ started, alive }),
    async close() {
      const slots = [current, successor].filter((x) => x !== undefined);
      current = successor = undefined;
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}

let shared: KeyThread | undefined;

/** The process's key thread, shared by its custodians (one SEAL heap for secrets, started on first use). */
export function sharedKeyThread(): KeyThread {
  shared ??= createKeyThread();
  return shared;
}
