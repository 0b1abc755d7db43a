/**
 * `npm start`: reads config, opens Postgres (or embedded PGlite) and Redis (or in-process),
 * applies migrations, makes sure the default tenant exists, and serves the provider. On the
 * embedded database it also runs facegate commands sent from a shell (adminSocket.ts), which
 * cannot open the database it holds, and greets a fresh install with the next steps.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { openConfiguredDatabase, type Database } from './store/db.ts';
import { openKeyValueStore, type KeyValueStore } from './store/kv.ts';
import { migrate } from './store/migrate.ts';
import { createLogger } from './logger.ts';
import { createApp } from './app.ts';
import { clientCache } from './oidc/clientCache.ts';
import { sweepExpiredPayloads } from './oidc/adapter.ts';
import { scheduleRetention } from './account/retention.ts';
import { ensureTenant } from './account/tenants.ts';
import { readOrCreateLocalSecret } from './store/localSecret.ts';
import { resolveDataKey, type DataKey } from './store/dataKey.ts';
import { sealLegacyRows } from './store/sealLegacyRows.ts';
import { auditRewritePowers } from './store/connectionRole.ts';
import { openFaceServices, type FaceServices } from './faceLogin/faceServices.ts';
import { scheduleCustodianMaintenance } from './custodian/custodianMaintenance.ts';
import { openKekRing } from './custodian/kek.ts';
import { CUSTODIAN_ROLE } from './store/db.ts';
import { serveAdminCommands } from './adminSocket.ts';
import { openAfterCommands } from './store/dataDirLock.ts';
import { nextSteps } from './nextSteps.ts';
import { main as runCli } from '../bin/facegate.ts';

export type RunningServer = { server: Server; url: string; db: Database; kv: KeyValueStore; dataKey: DataKey; face: FaceServices | undefined; close(): Promise<void> };

/** Starts the provider; tests pass their own database and store, otherwise config decides. */
/** Cookie keys from config, or the embedded default's generated ones. */
function withCookieKeys(config: Config): Config {
  if (config.cookieKeys.length > 0) return config;
  const key = readOrCreateLocalSecret(config.dataDir, 'cookie-key', () => randomBytes(32).toString('base64url'));
  return { ...config, cookieKeys: [key] };
}

export async function startServer(
  baseConfig: Config,
  given: { db?: Database; kv?: KeyValueStore; dataKey?: DataKey; logger?: Logger; face?: FaceServices } = {},
): Promise<RunningServer> {
  const config = withCookieKeys(baseConfig);
  const logger = given.logger ?? createLogger(config);
  const dataKey = given.dataKey ?? resolveDataKey(config);
  const db = given.db ?? (await openAfterCommands(() => openConfiguredDatabase(config, dataKey, 'server')));
  const kv = given.kv ?? openKeyValueStore(config.redisUrl);
  const applied = await migrate(db);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const sealed = await sealLegacyRows(db, dataKey);
  if (sealed) logger.info({ rows: sealed }, 'secrets stored in clear before this version sealed');
  const powers = await auditRewritePowers(db);
  if (powers.length && config.production) {
    throw new ConfigError(`DATABASE_URL must connect as a login role in facegate_app, not one that can rewrite the audit log (${powers.join('; ')}); run migrations with DATABASE_OWNER_URL`);
  }
  if (powers.length) logger.warn({ powers }, 'the database connection can rewrite the audit log: in production connect as a login role in facegate_app');
  // Each committed audit head, outside the database: `facegate audit verify --expect-head` checks it.
  const stopHeadLog = db.audit.onHead((head) => logger.info({ tenant: head.tenant, seq: head.seq, hash: head.hash }, 'audit.head'));
  await ensureTenant(db, { id: config.defaultTenant, name: 'Default tenant' }, 'system');
  const face = given.face ?? openFaceServices(config, { db, kv });
  if (!face) logger.warn({ publicUrl: config.publicUrl }, 'face sign-in is off: passkeys need PUBLIC_URL on https or http://localhost');
  const clients = clientCache(db);
  const app = createApp({ config, db, kv, dataKey, logger, clients, face });
  const server = app.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const sweep = setInterval(() => {
    sweepExpiredPayloads(db).catch((err) => logger.warn({ err }, 'sweep of expired OIDC rows failed'));
  }, 5 * 60_000);
  sweep.unref();
  // Retention (unused face data, old audit rows, expired OIDC rows), every 6 hours.
  const stopRetention = scheduleRetention({ db, kv, dataKey, face }, (err) => logger.warn({ err }, 'retention run failed'));
  // The in-process custodian's KEK rotation and orphan shredding (a separate custodian runs its own).
  const stopCustodian = face && config.custodian.mode === 'inprocess'
    ? scheduleCustodianMaintenance({ db: db.forRole(CUSTODIAN_ROLE), ring: openKekRing(config), epochDays: config.kekEpochDays }, {
        report: (r) => logger.info({ orphans: r.orphans, rotation: r.rotation }, 'custodian.maintenance'),
        error: (err) => logger.warn({ err }, 'custodian maintenance failed'),
      })
    : async () => {};
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, issuer: `${config.publicUrl}/t/${config.defaultTenant}`, database: db.kind, kv: config.redisUrl ? 'redis' : 'memory' }, 'facegate listening');
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    db,
    kv,
    dataKey,
    face,
    async close() {
      clearInterval(sweep);
      await stopRetention();
      await stopCustodian();
      stopHeadLog();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await face?.close();
      await clients.close();
      await kv.close();
      await db.close();
    },
  };
}

/** With WORKERS > 1 the primary forks that many provider processes sharing the port. */
async function runPrimaryOrWorker(config: Config): Promise<void> {
  if (config.workers > 1 && cluster.isPrimary) {
    // Migrations run once here so workers do not race on first start.
    const db = openConfiguredDatabase(config);
    await migrate(db);
    await db.close();
    for (let i = 0; i < config.workers; i++) cluster.fork();
    cluster.on('exit', (worker, code, signal) => {
      if (signal !== 'SIGTERM' && code !== 0) cluster.fork();
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
      });
    }
    return;
  }
  const logger = createLogger(config);
  const running = await startServer(config, { logger });
  // facegate commands from a shell cannot open the embedded database this process holds: they come here.
  const admin = running.db.kind === 'pglite' ? await serveAdminCommands(config.dataDir, runCli, logger) : undefined;
  const hint = await nextSteps(config, running.db);
  if (hint) console.log(hint);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // A cluster worker's IPC channel would keep it alive after the server closed.
      void (admin?.close() ?? Promise.resolve()).then(() => running.close()).then(() => cluster.isWorker && process.exit(0));
    });
  }
}

if (import.meta.main) {
  try {
    await runPrimaryOrWorker(loadConfig());
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`facegate: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
