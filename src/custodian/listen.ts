/**
 * Where the custodian service listens. CUSTODIAN_SOCKET: a Unix socket on the provider's host,
 * created owner-only and then given its configured mode (0600, or 0660 for a provider in the
 * socket's group) — the file mode decides who may connect. Else CUSTODIAN_HOST:CUSTODIAN_PORT,
 * over mutual TLS when its certificate is configured; production refuses plain HTTP there
 * unless the address is loopback (channel.ts).
 */
import { once } from 'node:events';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { refusePlainListen } from './channel.ts';

type ListenConfig = Pick<Config, 'custodianSocket' | 'custodianTls' | 'custodianHost' | 'custodianPort' | 'production'>;

/** Throws when the configured channel is not allowed (run before anything else starts). */
export function checkCustodianListen(config: ListenConfig): void {
  if (config.custodianSocket && config.custodianTls) {
    throw new ConfigError('CUSTODIAN_SOCKET serves plain HTTP guarded by the file mode: unset CUSTODIAN_TLS_CERT and CUSTODIAN_TLS_KEY, or CUSTODIAN_SOCKET');
  }
  if (!config.custodianSocket && !config.custodianTls) refusePlainListen(config.custodianHost, config.production);
}

/** Listens as configured; resolves to where (`https://host:port`, `http://…` or `unix:/path`). */
export async function listenCustodian(server: Server | TlsServer, config: ListenConfig): Promise<string> {
  checkCustodianListen(config);
  if (config.custodianSocket) return listenOnSocket(server, config.custodianSocket);
  server.listen(config.custodianPort, config.custodianHost);
  await once(server, 'listening');
  return `${config.custodianTls ? 'https' : 'http'}://${config.custodianHost}:${(server.address() as AddressInfo).port}`;
}

async function listenOnSocket(server: Server | TlsServer, socket: NonNullable<Config['custodianSocket']>): Promise<string> {
  await removeStaleSocket(socket.path);
  // bind() creates the file under the umask: owner-only from its first instant, so nobody can
  // connect in the moment before chmod. listen() binds synchronously in a non-cluster process.
  const umask = process.umask(0o177);
  try {
    server.listen(socket.path);
  } finally {
    process.umask(umask);
  }
  await once(server, 'listening');
  chmodSync(socket.path, socket.mode);
  return `unix:${socket.path}`;
}

/** A socket file left by a custodian that died is removed; a live one, or any other file, is an error. */
async function removeStaleSocket(file: string): Promise<void> {
  try {
    if (!lstatSync(file).isSocket()) throw new ConfigError(`CUSTODIAN_SOCKET ${file} exists and is not a socket`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new ConfigError(`CUSTODIAN_SOCKET ${file}: another process is listening there`);
  unlinkSync(file);
}
