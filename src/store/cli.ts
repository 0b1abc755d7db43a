/**
 * `facegate migrate`: applies pending migrations to DATABASE_URL (or the embedded PGlite), then
 * seals rows written in clear by earlier versions (which needs the data key).
 */
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { resolveDataKey } from './dataKey.ts';
import { openConfiguredDatabase } from './db.ts';
import { migrate } from './migrate.ts';
import { sealLegacyRows } from './sealLegacyRows.ts';

export async function run(_args: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const config = loadConfig(env);
  const db = openConfiguredDatabase(config);
  try {
    const applied = await migrate(db);
    io.out(applied.length ? `applied ${applied.join(', ')}` : 'up to date');
    const sealed = await sealLegacyRows(db, resolveDataKey(config));
    if (sealed) io.out(`sealed ${sealed} row(s) stored in clear by an earlier version`);
    return 0;
  } finally {
    await db.close();
  }
}
