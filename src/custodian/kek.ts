/**
 * The custodian's key ring: the KEK epochs of its private key store (kekStore.ts; the newest
 * seals new keys) and, to open keys sealed before epochs existed, the wrapping KEKs themselves —
 * FACEGATE_KEK's entries or, for the embedded quick start only, one random KEK generated on first
 * start in `<dataDir>/custodian-kek` (mode 0600). Production refuses to start without
 * FACEGATE_KEK (config.ts). The store lives in CUSTODIAN_KEY_DIR (embedded default
 * `<dataDir>/custodian-keys`). Another process may rotate the store: the ring notices the file
 * was replaced (a stat at most once a second, and for any id it does not know) and re-reads it,
 * dropping destroyed epochs from memory.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { readOrCreateLocalSecret } from '../store/localSecret.ts';
import { openKekStore, type EpochSet, type KekStore } from './kekStore.ts';
import type { Kek } from './sealedKey.ts';

export const KEK_FILE = 'custodian-kek';
export const KEY_DIR = 'custodian-keys';

export type KekRing = {
  /** The current epoch's KEK: new keys are sealed under it. */
  current(): Kek;
  /** The KEK named by a row's kek_id; 'destroyed' for a destroyed epoch, undefined for an unknown id. */
  find(id: string): Kek | 'destroyed' | undefined;
  /** The ids of the wrapping KEKs (keys sealed before epochs): opened, never destroyed here. */
  readonly legacyIds: string[];
  /** Re-reads the store and returns its epochs (rotation does this under its lock). */
  reload(): EpochSet;
  /** Replaces the store's epochs (kekRotation.ts only). */
  write(set: EpochSet): void;
};

/** FACEGATE_KEK's entries, or the embedded quick start's generated KEK. */
export function wrappingKeks(config: Pick<Config, 'kek' | 'dataDir'>): Kek[] {
  if (config.kek.length > 0) return config.kek;
  return [localKek(config.dataDir)];
}

export function keyDirOf(config: Pick<Config, 'custodianKeyDir' | 'dataDir'>): string {
  return config.custodianKeyDir ?? path.join(config.dataDir, KEY_DIR);
}

export function openKekRing(config: Pick<Config, 'kek' | 'dataDir' | 'custodianKeyDir'>): KekRing {
  const wrapping = wrappingKeks(config);
  return kekRing(openKekStore(keyDirOf(config), wrapping), wrapping);
}

// A stat costs ~50 µs on a loaded 2-core machine (measured: 108 µs for current() + find() at load
// 15): at most one a second on the decision path. Whatever must see the store as it is now
// (sealing a new key, every step of a rotation) calls reload() under the epoch lock instead.
const RECHECK_MS = 1000;

export function kekRing(store: KekStore, wrapping: Kek[]): KekRing {
  let set = store.read();
  let version = store.version();
  let checkedAt = Date.now();
  const reload = () => {
    version = store.version();
    checkedAt = Date.now();
    set = store.read();
    return set;
  };
  const recheck = (force: boolean) => {
    if (!force && Date.now() - checkedAt < RECHECK_MS) return;
    checkedAt = Date.now();
    if (store.version() !== version) reload();
  };
  const lookup = (id: string): Kek | 'destroyed' | undefined =>
    set.epochs.find((e) => e.id === id) ?? wrapping.find((k) => k.id === id) ?? (set.destroyed.some((d) => d.id === id) ? 'destroyed' : undefined);
  return {
    current() {
      recheck(false);
      return set.epochs[0];
    },
    find(id) {
      recheck(false);
      const kek = lookup(id);
      if (kek !== undefined) return kek;
      // An id this ring has not seen: another process may have rotated within the last second.
      recheck(true);
      return lookup(id);
    },
    legacyIds: wrapping.map((k) => k.id),
    reload,
    write(next) {
      store.write(next);
      version = store.version();
      set = next;
    },
  };
}

function localKek(dataDir: string): Kek {
  const value = readOrCreateLocalSecret(dataDir, KEK_FILE, () => `local-${randomBytes(4).toString('hex')}:${randomBytes(32).toString('base64')}`);
  const [id, b64] = value.split(':');
  const key = Buffer.from(b64 ?? '', 'base64');
  if (!id || key.length !== 32) throw new ConfigError(`${path.join(dataDir, KEK_FILE)} must hold id:base64-32-bytes`);
  return { id, key };
}
