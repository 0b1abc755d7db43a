/**
 * `facegate keys rotate --tenant T` makes a new signing key current (running providers pick
 * it up within a minute); `facegate keys prune --tenant T --older-than-days N` removes keys
 * retired before then.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { openConfiguredDatabase } from '../store/db.ts';
import { resolveDataKey } from '../store/dataKey.ts';
import { migrate } from '../store/migrate.ts';
import { sealLegacyRows } from '../store/sealLegacyRows.ts';
import { pruneRetiredKeys, rotateSigningKey } from './keys.ts';

export async function run(args: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const [, command, ...rest] = args;
  if (command !== 'rotate' && command !== 'prune') {
    io.err('usage: facegate keys rotate|prune --tenant T [--older-than-days N]');
    return 2;
  }
  let values: { tenant?: string; 'older-than-days'?: string };
  try {
    ({ values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, 'older-than-days': { type: 'string' } } }));
  } catch (e) {
    throw new InputError('cli.invalid_arguments', (e as Error).message);
  }
  const config = loadConfig(env);
  const tenant = values.tenant ?? config.defaultTenant;
  const db = openConfiguredDatabase(config);
  const dataKey = resolveDataKey(config);
  try {
    await migrate(db);
    await sealLegacyRows(db, dataKey);
    const { rows } = await db.transaction((sql) => sql.query('SELECT 1 FROM tenants WHERE id = $1', [tenant]));
    if (rows.length === 0) throw new InputError('tenant.not_found', `no tenant "${tenant}"`);
    if (command === 'rotate') {
      io.out(`new signing key ${await rotateSigningKey(db, dataKey, tenant)} for tenant ${tenant}; previous keys stay in the JWKS until pruned`);
      return 0;
    }
    const days = Number(values['older-than-days'] ?? 'NaN');
    if (!Number.isInteger(days) || days < 1) throw new InputError('cli.invalid_arguments', '--older-than-days must be a whole number ≥ 1');
    io.out(`removed ${await pruneRetiredKeys(db, tenant, days * 86400)} retired key(s)`);
    return 0;
  } finally {
    await db.close();
  }
}
