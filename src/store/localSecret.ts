/**
 * Secrets the embedded quick start generates once and keeps in the data directory (mode 0600),
 * so they survive restarts. Production takes them from the environment instead (config.ts).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';

/** Reads `<dataDir>/<name>`, creating it with `generate()` first if it does not exist. */
export function readOrCreateLocalSecret(dataDir: string, name: string, generate: () => string): string {
  const file = path.join(dataDir, name);
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(file)) {
    try {
      // 'wx': if another process created it meanwhile, keep theirs.
      writeFileSync(file, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) throw new ConfigError(`${file} must be readable by its owner only (chmod 600)`);
  return readFileSync(file, 'utf8').trim();
}
