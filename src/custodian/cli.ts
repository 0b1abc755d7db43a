/**
 * `facegate custodian certs --out DIR [--names custodian,localhost]`: a private CA, the custodian's
 * server certificate for those names and the provider's client certificate (devCerts.ts), with the
 * variables each side sets to use them.
 * `facegate custodian rotate-kek` starts a new KEK epoch now (whatever the current one's age),
 * rewraps every sealed key under it and destroys the older epochs; rerun after an interruption, it
 * finishes the same rotation. `facegate custodian shred-orphans` deletes the custodian's rows of
 * users and tenants that no longer exist and keys of destroyed epochs. Both also run on the
 * custodian's timer (custodianMaintenance.ts). Run where the custodian runs: with its key store
 * (CUSTODIAN_KEY_DIR), FACEGATE_KEK and CUSTODIAN_DATABASE_URL (else DATABASE_URL).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { InputError } from '../errors.ts';
import { CUSTODIAN_ROLE, openConfiguredDatabase } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { runCustodianMaintenance } from './custodianMaintenance.ts';
import { makeDevCerts } from './devCerts.ts';
import { openKekRing } from './kek.ts';
import { shredOrphans, type OrphanReport } from './orphanKeys.ts';

const USAGE = 'usage: facegate custodian certs --out <dir> [--names custodian,localhost] | rotate-kek | shred-orphans';

const orphanLine = (r: OrphanReport) =>
  `shredded ${r.keys} keys, ${r.passkeys} passkeys, ${r.nonces} nonces of deleted users; ${r.destroyedEpochKeys} keys of destroyed KEK epochs; ${r.vanishedTenantRows} rows of deleted tenants`;

export async function run(args: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const [, command, ...rest] = args;
  if (command === 'certs') return certs(rest, io);
  if ((command !== 'rotate-kek' && command !== 'shred-orphans') || rest.length > 0) {
    io.err(USAGE);
    return 2;
  }
  const config = loadConfig(env, 'custodian');
  const ring = openKekRing(config);
  const db = openConfiguredDatabase({ ...config, databaseUrl: config.custodianDatabaseUrl ?? config.databaseUrl });
  try {
    // The embedded database may be new; a custodian login could not migrate (the owner does).
    if (db.kind === 'pglite') await migrate(db);
    const cdb = db.forRole(CUSTODIAN_ROLE);
    if (command === 'shred-orphans') {
      io.out(orphanLine(await shredOrphans(cdb, ring)));
      return 0;
    }
    const { orphans, rotation } = await runCustodianMaintenance(cdb, ring, config.kekEpochDays, true);
    io.out(orphanLine(orphans));
    io.out(`KEK epoch ${rotation.current} is current (${rotation.created ? 'new' : 'resumed'}); rewrapped ${rotation.rewrapped} keys; destroyed ${rotation.destroyed.length ? rotation.destroyed.join(', ') : 'none'}`);
    return 0;
  } finally {
    await db.close();
  }
}

async function certs(rest: string[], io: CliIo): Promise<number> {
  let values: { out?: string; names?: string };
  try {
    values = parseArgs({ args: rest, options: { out: { type: 'string' }, names: { type: 'string' } }, strict: true }).values;
  } catch (e) {
    throw new InputError('cli.invalid_arguments', `${(e as Error).message}; ${USAGE}`);
  }
  if (!values.out) throw new InputError('cli.missing_argument', `--out is required; ${USAGE}`);
  // docker-compose reaches the custodian as `custodian`; localhost for one on this host.
  const names = (values.names ?? 'custodian,localhost').split(',').map((n) => n.trim()).filter(Boolean);
  const files = await makeDevCerts(path.resolve(values.out), names);
  io.out(`custodian (server certificate for ${names.join(', ')}):`);
  io.out(`  CUSTODIAN_TLS_CERT=${files.serverCert} CUSTODIAN_TLS_KEY=${files.serverKey} CUSTODIAN_TLS_CA=${files.ca}`);
  io.out('provider (client certificate):');
  io.out(`  CUSTODIAN_URL=https://${names[0]}:3100 CUSTODIAN_CLIENT_CERT=${files.clientCert} CUSTODIAN_CLIENT_KEY=${files.clientKey} CUSTODIAN_TLS_CA=${files.ca}`);
  io.out(`${files.caKey} signs certificates only: keep it off both services.`);
  return 0;
}
