/**
 * `facegate migrate`: applies pending migrations as the schema owner, DATABASE_OWNER_URL (else
 * DATABASE_URL, or the embedded PGlite). The server itself connects as the app role and only checks.
 */
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { openConfiguredDatabase } from './db.ts';
import { migrate } from './migrate.ts';

export async function run(_args: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const config = loadConfig(env);
  // Migrations append no audit rows: no anchor directory.
  const db = openConfiguredDatabase({ ...config, databaseUrl: config.databaseOwnerUrl ?? config.databaseUrl, auditAnchorDir: undefined });
  try {
    const applied = await migrate(db);
    io.out(applied.length ? `applied ${applied.join(', ')}` : 'up to date');
    return 0;
  } finally {
    await db.close();
  }
}
