/**
 * `npm run custodian`: the custodian as its own process, on CUSTODIAN_HOST:CUSTODIAN_PORT (loopback by default; mutual
 * TLS with CUSTODIAN_TLS_CERT/KEY/CA) or on the Unix socket CUSTODIAN_SOCKET (listen.ts), accepting
 * CUSTODIAN_TOKEN. It shares the provider's Postgres but not its role: CUSTODIAN_DATABASE_URL
 * logs in as a member of facegate_custodian (custodian tables, audit appends, no templates);
 * outside production it falls back to DATABASE_URL. It checks attempts' passkey assertions for
 * PUBLIC_URL's origin and RP ID. Its KEK epochs live in CUSTODIAN_KEY_DIR (required in
 * production: a volume of its own, never backed up), rotated on its own timer
 * (custodianMaintenance.ts) or by `facegate custodian rotate-kek`.
 */
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { relyingPartyFrom } from '../faceLogin/relyingParty.ts';
import { CUSTODIAN_ROLE, openConfiguredDatabase } from '../store/db.ts';
import { openKeyValueStore } from '../store/kv.ts';
import { custodianConnectionPowers } from './connectionCheck.ts';
import { createCustodianHttpServer } from './httpServer.ts';
import { scheduleCustodianMaintenance } from './custodianMaintenance.ts';
import { openKekRing } from './kek.ts';
import { sharedKeyThread } from './keyThread.ts';
import { checkCustodianListen, listenCustodian } from './listen.ts';
import { createLocalCustodian } from './localCustodian.ts';

export async function main(): Promise<void> {
  const config = loadConfig(process.env, 'custodian');
  checkCustodianListen(config);
  if (config.production && !config.custodianDatabaseUrl) throw new ConfigError('the separate custodian needs CUSTODIAN_DATABASE_URL (a login role in facegate_custodian) in production');
  if (config.production && !config.custodianKeyDir) throw new ConfigError('the separate custodian needs CUSTODIAN_KEY_DIR in production: a directory of its own for its KEK epochs, never backed up');
  const databaseUrl = config.custodianDatabaseUrl ?? config.databaseUrl;
  if (!databaseUrl) throw new ConfigError('the separate custodian needs CUSTODIAN_DATABASE_URL (it writes to the tenants\' audit log)');
  const db = openConfiguredDatabase({ ...config, databaseUrl });
  const powers = await custodianConnectionPowers(db);
  if (powers.length && config.production) {
    await db.close();
    throw new ConfigError(`CUSTODIAN_DATABASE_URL must log in as a role in facegate_custodian that cannot read templates (${powers.join('; ')})`);
  }
  if (powers.length) console.warn(`custodian: the database login can read templates (${powers.join('; ')}): in production use a role in facegate_custodian`);
  const kv = openKeyValueStore(config.redisUrl, 'facegate-custodian:');
  const ring = openKekRing(config);
  const custodian = createLocalCustodian({ db: db.forRole(CUSTODIAN_ROLE), kv, keks: ring, rp: relyingPartyFrom(config.publicUrl) });
  if (!config.custodianToken) throw new ConfigError('CUSTODIAN_TOKEN is required to run the custodian service');
  // SEAL's context at N = 8192 takes ~0.5 s to build (seconds on a loaded machine): the key
  // thread has it before the first request, not during it (the provider's calls time out after 5 s).
  await sharedKeyThread().ready();
  const server = createCustodianHttpServer(custodian, config.custodianToken, {
    tls: config.custodianTls,
    onUnexpected: (e) => console.error(`custodian: unexpected error: ${e instanceof Error ? `${e.name}: ${e.message}` : 'unknown'}`),
  });
  try {
    console.log(`custodian listening on ${await listenCustodian(server, config)}`);
  } catch (e) {
    await Promise.all([db.close(), kv.close()]);
    throw e;
  }
  // Counts and epoch ids only: never key material.
  const stopMaintenance = scheduleCustodianMaintenance({ db: db.forRole(CUSTODIAN_ROLE), ring, epochDays: config.kekEpochDays }, {
    report: (r) => console.log(JSON.stringify({ msg: 'custodian.maintenance', orphans: r.orphans, rotation: r.rotation })),
    error: (e) => console.error(`custodian: maintenance failed: ${e instanceof Error ? `${e.name}: ${e.message}` : 'unknown'}`),
  });
  const stop = () => server.close(() => void stopMaintenance().then(() => Promise.all([db.close(), kv.close()])));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof ConfigError ? `config error: ${e.message}` : e);
    process.exitCode = 1;
  });
}
