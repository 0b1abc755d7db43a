/**
 * `facegate custodian certs --out DIR [--names custodian,localhost]`: a private CA, the custodian's
 * server certificate for those names and the provider's client certificate (devCerts.ts), with the
 * variables each side sets to use them.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../bin/facegate.ts';
import { InputError } from '../errors.ts';
import { makeDevCerts } from './devCerts.ts';

const USAGE = 'usage: facegate custodian certs --out <dir> [--names custodian,localhost]';

export async function run(args: string[], io: CliIo): Promise<number> {
  const [, command, ...rest] = args;
  if (command !== 'certs') {
    io.err(USAGE);
    return 2;
  }
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
