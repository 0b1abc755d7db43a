/**
 * The custodian's KEK epochs, kept OUTSIDE the database: one file, `kek-epochs`, in a directory
 * only the custodian's OS user can read (created 0700, the file 0600; looser modes are refused).
 * Each epoch is a random 256-bit KEK; the newest is current, older ones exist only while a
 * rotation rewraps their rows (kekRotation.ts), and are then erased from the file. The file also
 * lists the ids of destroyed epochs (ids only): a row still naming one (restored from an old
 * backup) can never be opened again and is shredded (orphanKeys.ts).
 *
 * Why a file of random keys and not a derivation: a destroyed epoch must not be recomputable from
 * anything that survives — a hash ratchet or a key derived from FACEGATE_KEK would let whoever
 * holds the current secret re-derive every old epoch, and with it open every old backup.
 *
 * How FACEGATE_KEK fits: the file is sealed (AES-256-GCM) under an HKDF subkey of the first
 * FACEGATE_KEK entry (any listed entry opens it, so that key can be changed). Stealing the key
 * directory alone gives nothing; stealing the database, its backups AND FACEGATE_KEK gives only
 * the epochs still in the current file — a destroyed epoch is in no current file, so the backups
 * sealed under it stay closed. What still breaks this is an old copy of the key directory (a
 * volume snapshot, a file backup) together with FACEGATE_KEK: the key directory must never be
 * backed up or snapshotted. Losing it costs every face enrollment (users re-enroll), not accounts.
 *
 * Writes are atomic (temporary file, fsync, rename, fsync of the directory: a crash leaves the old
 * or the new file, never a torn one), and the replaced file's blocks are then overwritten with
 * zeros through a descriptor kept open across the rename, so the old ciphertext does not linger in
 * a hard link or in place on a filesystem that rewrites in place (a copy-on-write filesystem or an
 * SSD's remapping may still keep old blocks: use an encrypted volume).
 */
import { closeSync, constants, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hkdfSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError, FacegateError } from '../errors.ts';
import { gcmOpen, gcmSeal, type Kek } from './sealedKey.ts';

export const EPOCH_FILE = 'kek-epochs';

export type Epoch = Kek & { createdAt: number };
/** `epochs` newest (current) first; `destroyed` oldest first. */
export type EpochSet = { epochs: Epoch[]; destroyed: { id: string; at: number }[] };

export type KekStore = {
  readonly file: string;
  /** The epochs as stored; a missing file is created with one fresh epoch. */
  read(): EpochSet;
  /** Replaces the file atomically, sealed under the first wrapping KEK, and zeroes the old one. */
  write(set: EpochSet): void;
  /** Changes whenever the file is replaced (another process rotated). */
  version(): string;
};

const FORMAT = 'facegate-kek-epochs:v1';

export function newEpoch(now = Date.now()): Epoch {
  const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '');
  return { id: `epoch-${day}-${randomBytes(4).toString('hex')}`, key: randomBytes(32), createdAt: now };
}

const wrapKey = (kek: Kek) => Buffer.from(hkdfSync('sha256', kek.key, Buffer.alloc(0), `${FORMAT}:wrap`, 32));
const aad = (kekId: string) => Buffer.from(`${FORMAT}\n${kekId}`);

function seal(wrapping: Kek, set: EpochSet): string {
  const plain = Buffer.from(JSON.stringify({
    epochs: set.epochs.map((e) => ({ id: e.id, key: e.key.toString('base64'), createdAt: e.createdAt })),
    destroyed: set.destroyed,
  }));
  const sealed = gcmSeal(wrapKey(wrapping), aad(wrapping.id), plain);
  plain.fill(0);
  // The file keeps gcmSeal's three parts apart: IV (12 bytes), tag (16), ciphertext.
  const [iv, tag, ct] = [sealed.subarray(0, 12), sealed.subarray(12, 28), sealed.subarray(28)].map((b) => b.toString('base64'));
  return `${JSON.stringify({ format: FORMAT, wrappedBy: wrapping.id, iv, tag, ct })}\n`;
}

function unseal(file: string, text: string, wrapping: Kek[]): EpochSet {
  const broken = (why: string) => new FacegateError('custodian.kek_store_unreadable', `${file}: ${why}`, 500);
  let outer: { format?: unknown; wrappedBy?: unknown; iv?: unknown; tag?: unknown; ct?: unknown };
  try {
    outer = JSON.parse(text) as typeof outer;
  } catch {
    throw broken('not a KEK epoch file');
  }
  if (outer.format !== FORMAT || typeof outer.iv !== 'string' || typeof outer.tag !== 'string' || typeof outer.ct !== 'string') throw broken('not a KEK epoch file');
  const kek = wrapping.find((k) => k.id === outer.wrappedBy);
  if (!kek) throw broken(`sealed under KEK "${String(outer.wrappedBy)}", which FACEGATE_KEK does not list`);
  let plain: Buffer;
  try {
    const [iv, tag, ct] = [outer.iv, outer.tag, outer.ct].map((b) => Buffer.from(b, 'base64'));
    if (iv.length !== 12 || tag.length !== 16) throw new Error('malformed');
    plain = gcmOpen(wrapKey(kek), aad(kek.id), Buffer.concat([iv, tag, ct]));
  } catch {
    throw broken(`does not open under KEK "${kek.id}"`);
  }
  const inner = JSON.parse(plain.toString('utf8')) as { epochs: { id: string; key: string; createdAt: number }[]; destroyed: EpochSet['destroyed'] };
  plain.fill(0);
  return { epochs: inner.epochs.map((e) => ({ id: e.id, key: Buffer.from(e.key, 'base64'), createdAt: e.createdAt })), destroyed: inner.destroyed };
}

function ownerOnly(p: string, mode: number, what: string): void {
  if ((statSync(p).mode & 0o077) !== 0) throw new ConfigError(`${p} must be accessible by its owner only (chmod ${mode.toString(8)}): it is the custodian's ${what}`);
}

/** Writes `text` to a new temporary file in `dir` and makes it durable; returns its path. */
function durableTemp(dir: string, text: string): string {
  const tmp = path.join(dir, `.${EPOCH_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `wrapping`: FACEGATE_KEK's entries (or the embedded KEK); the first seals, any opens. */
export function openKekStore(dir: string, wrapping: Kek[]): KekStore {
  if (wrapping.length === 0) throw new FacegateError('custodian.no_kek', 'the KEK epoch store needs a wrapping KEK', 500);
  const file = path.join(dir, EPOCH_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ownerOnly(dir, 0o700, 'key directory');
  // Temporary files of writes that crashed before their rename (never the store itself); one
  // younger than a minute may be another process's write in progress.
  for (const name of readdirSync(dir)) {
    const tmp = path.join(dir, name);
    if (name.startsWith(`.${EPOCH_FILE}.`) && Date.now() - statSync(tmp).mtimeMs > 60_000) unlinkSync(tmp);
  }

  return {
    file,
    read() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        // First start: one fresh epoch. link() fails if another process created it meanwhile.
        const tmp = durableTemp(dir, seal(wrapping[0], { epochs: [newEpoch()], destroyed: [] }));
        try {
          linkSync(tmp, file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        } finally {
          unlinkSync(tmp);
        }
        syncDir(dir);
        text = readFileSync(file, 'utf8');
      }
      ownerOnly(file, 0o600, 'KEK epoch file');
      return unseal(file, text, wrapping);
    },
    write(set) {
      if (set.epochs.length === 0) throw new FacegateError('custodian.no_kek', 'the KEK epoch store must keep a current epoch', 500);
      const tmp = durableTemp(dir, seal(wrapping[0], set));
      let old: number | undefined;
      try {
        old = openSync(file, constants.O_WRONLY);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      try {
        renameSync(tmp, file);
        syncDir(dir);
        if (old !== undefined) {
          // The replaced file, now unlinked (or alive only as a hard link someone made): zeros.
          const { size } = fstatSync(old);
          writeSync(old, Buffer.alloc(size), 0, size, 0);
          fsyncSync(old);
        }
      } finally {
        if (old !== undefined) closeSync(old);
      }
    },
    version() {
      try {
        const s = statSync(file, { bigint: true });
        return `${s.ino}:${s.ctimeNs}:${s.size}`;
      } catch {
        return 'missing';
      }
    },
  };
}
