/**
 * `facegate admin create-client [--tenant T] --name N`: a credential for the tenant admin API
 * (admin/adminClient.ts); the secret is printed once, with how to get a token.
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { issuerFor } from '../oidc/provider.ts';
import { openConfiguredDatabase } from '../store/db.ts';
import { resolveDataKey } from '../store/dataKey.ts';
import { migrate } from '../store/migrate.ts';
import { adminAudience, createAdminClient } from './adminClient.ts';

const USAGE = '  facegate admin create-client [--tenant T] --name N';

export async function run(args: string[], io: CliIo, env?: Record<string, string | undefined>): Promise<number> {
  const [, command, ...rest] = args;
  if (command !== 'create-client') {
    io.err(`usage:\n${USAGE}`);
    return 2;
  }
  let values: { tenant?: string; name?: string };
  try {
    values = parseArgs({ args: rest, options: { tenant: { type: 'string' }, name: { type: 'string' } }, strict: true }).values;
  } catch (e) {
    throw new InputError('cli.invalid_arguments', `${(e as Error).message}\nusage:\n${USAGE}`);
  }
  if (!values.name) throw new InputError('cli.missing_argument', `--name is required\nusage:\n${USAGE}`);
  const config = loadConfig(env);
  const dataKey = resolveDataKey(config);
  const db = openConfiguredDatabase(config, dataKey);
  try {
    await migrate(db);
    const tenant = values.tenant ?? config.defaultTenant;
    const { clientId, clientSecret } = await createAdminClient({ db, dataKey }, tenant, values.name, 'cli');
    const issuer = issuerFor(config, tenant);
    io.out(`admin client ${clientId}; secret (shown once): ${clientSecret}`);
    io.out(`token: POST ${issuer}/token grant_type=client_credentials resource=${adminAudience(issuer)} scope=admin (HTTP Basic with the client id and secret)`);
    io.out(`API: ${adminAudience(issuer)}/openapi.json`);
    return 0;
  } finally {
    await db.close();
  }
}
