#!/usr/bin/env node
/**
 * `facegate <group> <command> [--flags]`. Each group lives in its layer and exports
 * `run(args, io)`; this file only dispatches and renders errors once.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FacegateError, ConfigError } from '../src/errors.ts';

export type CliIo = { out: (line: string) => void; err: (line: string) => void };
export type CliGroup = { run(args: string[], io: CliIo): Promise<number> };

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const groups: Record<string, { module: string; help: string }> = {
  migrate: { module: 'src/store/cli.ts', help: 'apply database migrations' },
  tenant: { module: 'src/account/cli.ts', help: 'create | list tenants' },
  client: { module: 'src/account/cli.ts', help: 'create | list | set-min-acr clients' },
  resource: { module: 'src/account/cli.ts', help: 'create | list resource servers (APIs that read acr from access tokens)' },
  user: { module: 'src/account/cli.ts', help: 'create | list | set-pin | enroll-totp users' },
  audit: { module: 'src/audit/cli.ts', help: 'verify the hash chain of a tenant audit log' },
  keys: { module: 'src/oidc/cli.ts', help: 'rotate signing keys' },
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = await main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) });
  process.exitCode = code;
}
