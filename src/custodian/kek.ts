/**
 * The key-encryption keys: from config (FACEGATE_KEK, first is current), or — for the embedded
 * quick start only — one random KEK generated on first start and kept in `<dataDir>/custodian-kek`
 * (mode 0600), so sealed keys survive restarts. Production refuses to start without FACEGATE_KEK
 * (config.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { Kek } from './sealedKey.ts';

export const KEK_FILE = 'custodian-kek';

export function resolveKeks(config: Pick<Config, 'kek' | 'dataDir'>): Kek[] {
  if (config.kek.length > 0) return config.kek;
  return [localKek(config.dataDir)];
}

function localKek(dataDir: string): Kek {
  const file = path.join(dataDir, KEK_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `local-${randomBytes(4).toString('hex')}:${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if ((statSync(file).mode & 0o077) !== 0) throw new ConfigError(`${file} must be readable by its owner only (chmod 600)`);
  const [id, b64] = readFileSync(file, 'utf8').trim().split(':');
  const key = Buffer.from(b64 ?? '', 'base64');
  if (!id || key.length !== 32) throw new ConfigError(`${file} must hold id:base64-32-bytes`);
  return { id, key };
}
