/**
 * The key-encryption keys: from config (FACEGATE_KEK, first is current), or — for the embedded
 * quick start only — one random KEK generated on first start and kept in `<dataDir>/custodian-kek`
 * (mode 0600), so sealed keys survive restarts. Production refuses to start without FACEGATE_KEK
 * (config.ts).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { readOrCreateLocalSecret } from '../store/localSecret.ts';
import type { Kek } from './sealedKey.ts';

export const KEK_FILE = 'custodian-kek';

export function resolveKeks(config: Pick<Config, 'kek' | 'dataDir'>): Kek[] {
  if (config.kek.length > 0) return config.kek;
  return [localKek(config.dataDir)];
}

function localKek(dataDir: string): Kek {
  const value = readOrCreateLocalSecret(dataDir, KEK_FILE, () => `local-${randomBytes(4).toString('hex')}:${randomBytes(32).toString('base64')}`);
  const [id, b64] = value.split(':');
  const key = Buffer.from(b64 ?? '', 'base64');
  if (!id || key.length !== 32) throw new ConfigError(`${path.join(dataDir, KEK_FILE)} must hold id:base64-32-bytes`);
  return { id, key };
}
