/**
 * `npm run custodian`: the custodian as its own process, on CUSTODIAN_HOST:CUSTODIAN_PORT (loopback by default), accepting
 * CUSTODIAN_TOKEN. It shares the provider's Postgres but not its role: CUSTODIAN_DATABASE_URL
 * logs in as a member of facegate_custodian (custodian tables, audit appends, no templates);
 * outside production it falls back to DATABASE_URL. It checks attempts' passkey assertions for
 * PUBLIC_URL's origin and RP ID. `npm run custodian -- rewrap` re-seals every key under the first
 * FACEGATE_KEK and exits.
 */
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { relyingPartyFrom } from '../faceLogin/relyingParty.ts';
import { CUSTODIAN_ROLE, openConfiguredDatabase } from '../store/db.ts';
import { openKeyValueStore } from '../store/kv.ts';
import { custodianConnectionPowers } from './connectionCheck.ts';
import { createCustodianHttpServer } from './httpServer.ts';
import { resolveKeks } from './kek.ts';
import { sharedKeyThread } from './keyThread.ts';
import { createLocalCustodian } from './localCustodian.ts';

export async function main(args: string[]): Promise<void> {
  const config = loadConfig();
  const rewrap = args[0] === 'rewrap';
  // Rewrapping also works on the embedded database (run it while the provider is stopped).
  if (config.production && !config.custodianDatabaseUrl) throw new ConfigError('the separate custodian needs CUSTODIAN_DATABASE_URL (a login role in facegate_custodian) in production');
  const databaseUrl = config.custodianDatabaseUrl ?? config.databaseUrl;
  if (!databaseUrl && !rewrap) throw new ConfigError('the separate custodian needs CUSTODIAN_DATABASE_URL (it writes to the tenants\' audit log)');
  const db = openConfiguredDatabase({ ...config, databaseUrl });
  const powers = await custodianConnectionPowers(db);
  if (powers.length && config.production) {
    await db.close();
    throw new ConfigError(`CUSTODIAN_DATABASE_URL must log in as a role in facegate_custodian that cannot read templates (${powers.join('; ')})`);
  }
  if (powers.length) console.warn(`custodian: the database login can read templates (${powers.join('; ')}): in production use a role in facegate_custodian`);
  const kv = openKeyValueStore(config.redisUrl, 'facegate-custodian:');
  const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: resolveKeks(config), rp: relyingPartyFrom(config.publicUrl) });
  if (rewrap) {
    const count = await custodian.rewrapAll();
    console.log(`rewrapped ${count} keys under KEK ${resolveKeks(config)[0].id}`);
    await Promise.all([db.close(), kv.close()]);
    return;
  }
  if (!config.custodianToken) throw new ConfigError('CUSTODIAN_TOKEN is required to run the custodian service');
  // SEAL's context at N = 8192 takes ~0.5 s to build (seconds on a loaded machine): the key
  // thread has it before the first request, not during it (the provider's calls time out after 5 s).
  await sharedKeyThread().ready();
  const server = createCustodianHttpServer(custodian, config.custodianToken, (e) =>
    console.error(`custodian: unexpected error: ${e instanceof Error ? `${e.name}: ${e.message}` : 'unknown'}`),
  );
  server.listen(config.custodianPort, config.custodianHost, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.custodianPort;
    console.log(`custodian listening on http://${config.custodianHost}:${port}`);
  });
  const stop = () => server.close(() => void Promise.all([db.close(), kv.close()]));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof ConfigError ? `config error: ${e.message}` : e);
    process.exitCode = 1;
  });
}
