/** `facegate audit verify --tenant T`: exit 0 when the tenant's audit chain holds, 1 otherwise. */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { InputError, NotFoundError } from '../errors.ts';
import { openConfiguredDatabase } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { verifyAuditChain } from './verify.ts';
import { isTenantId } from '../ids.ts';

const USAGE = 'usage: facegate audit verify --tenant <id>';

/** `env` defaults to the process environment; tests pass their own. */
export async function run(args: string[], io: CliIo, env?: Record<string, string | undefined>): Promise<number> {
  const [, command, ...rest] = args;
  if (command !== 'verify') {
    io.err(USAGE);
    return 2;
  }
  let tenant: string | undefined;
  try {
    tenant = parseArgs({ args: rest, options: { tenant: { type: 'string' } }, strict: true }).values.tenant;
  } catch (e) {
    throw new InputError('cli.invalid_arguments', `${(e as Error).message}; ${USAGE}`);
  }
  if (!tenant) throw new InputError('cli.missing_argument', `--tenant is required; ${USAGE}`);
  if (!isTenantId(tenant)) throw new InputError('tenant.invalid_id', `invalid tenant id "${tenant}"`);
  const config = loadConfig(env);
  const db = openConfiguredDatabase(config);
  try {
    await migrate(db);
    const { rows } = await db.transaction((sql) => sql.query('SELECT 1 FROM tenants WHERE id = $1', [tenant]));
    if (!rows.length) throw new NotFoundError('tenant.not_found', `tenant "${tenant}" does not exist`);
    const result = await verifyAuditChain(db, tenant);
    if (result.ok) {
      io.out(`audit chain of tenant ${tenant}: ok (${result.checked} events)`);
      return 0;
    }
    const p = result.problem!;
    io.err(`audit chain of tenant ${tenant}: BROKEN at seq ${p.seq} (${p.reason}); ${result.checked} events verified before it`);
    return 1;
  } finally {
    await db.close();
  }
}
