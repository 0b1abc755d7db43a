/**
 * One process at a time per embedded database. PGlite runs Postgres inside the process that
 * opened it and writes its files back on its own schedule: a second process opening the same
 * directory works on its own copy, and one of the two silently loses its writes. So the opener
 * takes `<dir>.lock`, created exclusively and naming its pid; a lock whose pid is gone (a crash,
 * a kill -9) is stale and taken over, as Postgres does with postmaster.pid.
 */
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../errors.ts';

/** `server`: `npm start`, which takes facegate commands over its admin socket; `command`: anything else. */
export type LockHolderKind = 'server' | 'command';
export type LockHolder = { pid: number; kind: LockHolderKind };

/** A second opener of the same embedded database. */
export class DataDirInUseError extends ConfigError {
  readonly holder: LockHolder;
  constructor(dir: string, holder: LockHolder) {
    const pid = holder.pid ? `pid ${holder.pid}` : 'just starting';
    const what = holder.kind === 'server'
      ? `a facegate server (${pid}); PGlite allows one process per DATA_DIR: stop that server first, or use another DATA_DIR`
      : `another facegate command (${pid}); PGlite allows one process per DATA_DIR: try again when it has finished`;
    super(`the embedded database ${dir} is open in ${what}`);
    this.name = 'DataDirInUseError';
    this.holder = holder;
  }
}

/** A lock file being written right now reads empty; older than this, an unreadable one is debris. */
const UNREADABLE_GRACE_MS = 2000;

function isAlive(pid: number): boolean {
  // Our own pid in a lock we do not hold is a leftover (a container restarted with the same pid).
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Read = { state: 'absent' } | { state: 'held'; holder: LockHolder } | { state: 'stale' };

function readLock(file: string): Read {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw e;
  }
  let holder: LockHolder | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(parsed.pid) && (parsed.kind === 'server' || parsed.kind === 'command')) holder = { pid: parsed.pid!, kind: parsed.kind };
  } catch {
    holder = undefined;
  }
  if (!holder) {
    const young = Date.now() - statSync(file, { throwIfNoEntry: false })!.mtimeMs < UNREADABLE_GRACE_MS;
    return young ? { state: 'held', holder: { pid: 0, kind: 'command' } } : { state: 'stale' };
  }
  return isAlive(holder.pid) ? { state: 'held', holder } : { state: 'stale' };
}

/** The live process holding `file`, if any. */
export function lockHolder(file: string): LockHolder | undefined {
  const read = readLock(file);
  return read.state === 'held' ? read.holder : undefined;
}

/**
 * Takes the lock `file` for the database `dir`, or throws DataDirInUseError naming the live
 * holder. Returns the release function (which removes the file only while it is still ours).
 */
export function acquireDataDirLock(file: string, dir: string, kind: LockHolderKind): () => void {
  const mine = `${JSON.stringify({ pid: process.pid, kind })}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const read = readLock(file);
    if (read.state === 'held') throw new DataDirInUseError(dir, read.holder);
    if (read.state === 'stale') {
      try {
        unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }
  const read = readLock(file);
  throw new DataDirInUseError(dir, read.state === 'held' ? read.holder : { pid: 0, kind: 'command' });
}

/**
 * Runs `open` (which takes the lock), retrying for up to `ms` while a facegate command holds
 * it: a command is over in a second, so a server started next to one waits instead of failing.
 */
export async function openAfterCommands<T>(open: () => T, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return open();
    } catch (e) {
      if (!(e instanceof DataDirInUseError) || e.holder.kind !== 'command' || Date.now() > deadline) throw e;
    }
    await sleep(200);
  }
}
