/**
 * One PGlite instance per embedded database directory, shared within the process and locked
 * against other processes (dataDirLock.ts). Two instances on one directory lose writes even
 * inside a single process, so a second open here borrows the first handle: this is how a
 * facegate command sent to the running server (adminSocket.ts) uses the server's database.
 * The database closes when its last borrower closes.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { DataKey } from './dataKey.ts';
import { acquireDataDirLock, type LockHolderKind } from './dataDirLock.ts';

type Closable = { close(): Promise<void> };
type Open<D extends Closable> = { db: D; refs: number; keyProbe: string; release: () => void };

const open = new Map<string, Open<Closable>>();

/** Where the embedded PGlite database of `DATA_DIR` lives. */
export const embeddedDatabaseDir = (dataDir: string) => path.join(dataDir, 'pglite');

/** The lock file of the embedded database in `dir`. */
export const lockFileOf = (dir: string) => `${dir}.lock`;

/** Proves two openers use the same data key, without comparing the key itself. */
const keyProbe = (dataKey: DataKey) => dataKey.mac('embedded-handle', 'probe');

/**
 * The database in `dir`: this process's open handle if there is one (opened with the same data
 * key), else a new one from `create()` once the directory's lock is taken.
 */
export function openEmbeddedOnce<D extends Closable>(dir: string, dataKey: DataKey, kind: LockHolderKind, create: () => D): D {
  mkdirSync(dir, { recursive: true });
  const key = realpathSync(dir);
  let entry = open.get(key) as Open<D> | undefined;
  if (entry) {
    if (entry.keyProbe !== keyProbe(dataKey)) throw new ConfigError(`the embedded database ${dir} is already open in this process with another data key`);
    entry.refs++;
  } else {
    const release = acquireDataDirLock(lockFileOf(dir), dir, kind);
    try {
      entry = { db: create(), refs: 1, keyProbe: keyProbe(dataKey), release };
    } catch (e) {
      release();
      throw e;
    }
    open.set(key, entry);
  }
  const shared = entry;
  let closed = false;
  return {
    ...shared.db,
    async close() {
      if (closed) return;
      closed = true;
      if (--shared.refs > 0) return;
      open.delete(key);
      try {
        await shared.db.close();
      } finally {
        shared.release();
      }
    },
  };
}
