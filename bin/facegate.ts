#!/usr/bin/env node
/**
 * `facegate <group> <command> [--flags]`. Each group lives in its layer and exports
 * `run(args, io)`; this file only dispatches and renders errors once. Run from a shell while an
 * embedded server holds the database, a database command is sent to that server and run there
 * (src/adminSocket.ts), since PGlite can be open in one process only.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { FacegateError, ConfigError } from '../src/errors.ts';
import { loadConfig } from '../src/config.ts';
import { sendToRunningServer } from '../src/adminSocket.ts';
import { openConfiguredDatabase, type Database } from '../src/store/db.ts';
import { DataDirInUseError } from '../src/store/dataDirLock.ts';

/** `readLine`: the next line of the caller's standard input (for `user set-pin` without `--pin`). */
export type CliIo = { out: (line: string) => void; err: (line: string) => void; readLine?: () => Promise<string> };
export type CliGroup = { run(args: string[], io: CliIo): Promise<number> };

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * `database`: the group opens the configured database (and goes to a running embedded server),
 * except its commands listed in `withoutDatabase`, which run here.
 */
const groups: Record<string, { module: string; help: string; database?: true; withoutDatabase?: string[] }> = {
  migrate: { module: 'src/store/cli.ts', help: 'apply database migrations', database: true },
  tenant: { module: 'src/account/cli.ts', help: 'create | list tenants', database: true },
  client: { module: 'src/account/cli.ts', help: 'create | list | set-min-acr clients', database: true },
  resource: { module: 'src/account/cli.ts', help: 'create | list resource servers (APIs that read acr from access tokens)', database: true },
  user: { module: 'src/account/cli.ts', help: 'create | list | set-pin | enroll-totp users', database: true },
  audit: { module: 'src/audit/cli.ts', help: 'verify the hash chain of a tenant audit log', database: true },
  admin: { module: 'src/admin/cli.ts', help: 'create-client: a credential for the tenant admin API', database: true },
  retention: { module: 'src/account/retentionCli.ts', help: 'run | show | set the retention policy (unused face data, audit age, expired tokens)', database: true },
  keys: { module: 'src/oidc/cli.ts', help: 'rotate signing keys', database: true },
  custodian: {
    module: 'src/custodian/cli.ts',
    help: 'rotate-kek | shred-orphans: KEK epochs and orphaned custodian rows; certs --out DIR: a CA and mutual-TLS certificates for the custodian and the provider',
    database: true,
    withoutDatabase: ['certs'],
  },
  face: { module: 'src/face/cli.ts', help: 'verify A.jpg B.jpg: match and liveness scores' },
  models: { module: 'src/face/modelsCli.ts', help: 'check | fetch model files' },
};

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [group, ...rest] = argv;
  const entry = group ? groups[group] : undefined;
  if (!entry) {
    io.err('usage: facegate <group> <command> [--flags]');
    for (const [name, g] of Object.entries(groups)) io.err(`  ${name.padEnd(8)} ${g.help}`);
    return 2;
  }
  try {
    const mod = (await import(pathToFileURL(path.join(root, entry.module)).href)) as CliGroup;
    return await mod.run([group, ...rest], io);
  } catch (e) {
    if (e instanceof FacegateError) {
      io.err(`error ${e.code}: ${e.message}`);
      return 1;
    }
    if (e instanceof ConfigError) {
      io.err(`config error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** The first line of standard input ('' at its end). */
async function readStdinLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin });
  try {
    for await (const line of rl) return line;
    return '';
  } finally {
    rl.close();
  }
}

/**
 * From a shell: a database command goes to the embedded server holding the database if one
 * runs (and then runs with the server's configuration and data key). Else this process takes
 * the database before running the command, so that a server starting meanwhile waits for it
 * rather than the two racing; a server that took it first gets the command after all.
 */
async function fromShell(argv: string[], io: CliIo & { readLine: () => Promise<string> }): Promise<number> {
  const group = argv[0] ? groups[argv[0]] : undefined;
  if (!group?.database || group.withoutDatabase?.includes(argv[1] ?? '')) return main(argv, io);
  let held: Database | undefined;
  try {
    const config = loadConfig();
    if (config.databaseUrl || config.databaseOwnerUrl) return await main(argv, io);
    for (let attempt = 0; !held; attempt++) {
      const sent = await sendToRunningServer(config.dataDir, argv, io);
      if (sent !== undefined) return sent;
      try {
        held = openConfiguredDatabase(config);
      } catch (e) {
        if (!(e instanceof DataDirInUseError) || attempt >= 3) throw e;
      }
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(`config error: ${e.message}`);
    return 1;
  }
  try {
    // The command opens the configured database too: in this process that is `held`.
    return await main(argv, io);
  } finally {
    await held.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await fromShell(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), readLine: readStdinLine });
}
