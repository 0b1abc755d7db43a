/**
 * `npm run demo`: "Login with Face" to try in one command (issue 13). Starts the provider on
 * embedded defaults in its own data directory (DEMO_DATA_DIR, default ./data-demo, so a real
 * DATA_DIR is never touched), seeds the example RP's client and a demo user (demoSeed.ts, found
 * again on later runs), starts the example RP (examples/rp/server.ts) in the same process and
 * prints one block: where to go and how to sign in. Ctrl-C stops both and releases the database.
 *
 * The shell's other facegate variables (DATA_DIR, DATABASE_URL, REDIS_URL, PUBLIC_URL, keys,
 * tenant…) are ignored on purpose: the demo always runs embedded on http://localhost (passkeys
 * need it). It refuses NODE_ENV=production: it creates a user whose PIN it prints. Read from the
 * environment: PORT (provider, 3000), DEMO_RP_PORT (4000), DEMO_DATA_DIR, FACE_MODELS_DIR and
 * LOG_LEVEL (default warn, to keep the block readable). The npm script `exec`s: otherwise its sh
 * dies of the terminal's Ctrl-C and npm exits 130 even though the demo stopped cleanly.
 */
import path from 'node:path';
import { startRp } from '../examples/rp/server.ts';
import { main as runCli } from '../bin/facegate.ts';
import { serveAdminCommands, type AdminSocket } from './adminSocket.ts';
import { loadConfig, type Config } from './config.ts';
import { seedDemo, DEMO_PIN_FILE, type DemoSeed } from './demoSeed.ts';
import { ConfigError } from './errors.ts';
import { checkModels } from './face/modelsCli.ts';
import { createLogger } from './logger.ts';
import { startServer, type RunningServer } from './main.ts';

type Env = Record<string, string | undefined>;
export type DemoConfig = { env: Env; config: Config; rpPort: number };

/** Every variable loadConfig reads (it reads them all from an empty environment). */
function configVariables(): Set<string> {
  const read = new Set<string>();
  loadConfig(new Proxy({} as Env, { get: (_t, name) => (typeof name === 'string' && read.add(name), undefined) }));
  return read;
}

/**
 * The demo's environment and configuration: `env` without any facegate variable, plus the few
 * the demo takes. It becomes the whole process's environment (see below), so the facegate
 * commands the demo runs for a shell over its admin socket, which read their configuration
 * again, open the demo's database and not the one the shell's DATA_DIR or DATABASE_URL names.
 */
export function demoConfig(env: Env = process.env): DemoConfig {
  if (env.NODE_ENV === 'production') {
    throw new ConfigError('npm run demo creates a user with a printed PIN for trying facegate on this machine; it does not run with NODE_ENV=production');
  }
  const rpPortRaw = env.DEMO_RP_PORT || '4000';
  const rpPort = Number(rpPortRaw);
  if (!/^\d+$/.test(rpPortRaw) || rpPort < 1 || rpPort > 65535) throw new ConfigError(`DEMO_RP_PORT must be a port number, got "${rpPortRaw}"`);
  const facegate = configVariables();
  const demoEnv: Env = Object.fromEntries(Object.entries(env).filter(([name]) => !facegate.has(name)));
  Object.assign(demoEnv, {
    PORT: env.PORT || '3000',
    DATA_DIR: path.resolve(env.DEMO_DATA_DIR || 'data-demo'),
    LOG_LEVEL: env.LOG_LEVEL || 'warn',
    ...(env.FACE_MODELS_DIR ? { FACE_MODELS_DIR: env.FACE_MODELS_DIR } : {}),
  });
  const config = loadConfig(demoEnv);
  if (config.port === rpPort) throw new ConfigError(`PORT and DEMO_RP_PORT are both ${rpPort}: the provider and the example RP need a port each`);
  return { env: demoEnv, config, rpPort };
}

/** The block printed once both are up. */
export function demoBanner(config: Config, rpUrl: string, seed: DemoSeed, modelsMissing: string[]): string {
  const relative = path.relative(process.cwd(), config.dataDir);
  const dir = relative && !relative.startsWith('..') ? relative : config.dataDir;
  const line = '─'.repeat(72);
  return [
    line,
    `facegate demo — demo data only, in ${dir}/ (delete it to start over)`,
    `  Open the example RP:  ${rpUrl}`,
    `  Username:             ${seed.username}`,
    `  PIN:                  ${seed.pin}   (DEMO ONLY: random for this directory, kept in ${dir}/${DEMO_PIN_FILE})`,
    `  Issuer:               ${config.publicUrl}/t/${config.defaultTenant}   (client ${seed.clientId})`,
    '"Sign in" uses the PIN. "Login with Face" needs a camera and a passkey on this device',
    '(platform authenticator): sign in with the PIN first and accept the offer to set up face',
    'sign-in (consent, passkey, capture); from then on "Login with Face" works.',
    ...(modelsMissing.length ? [`Face models missing (${modelsMissing.join(', ')}): run \`npm run models\` first, or set FACE_MODELS_DIR.`] : []),
    `Commands meanwhile: DATA_DIR=${dir} node bin/facegate.ts user list --tenant ${config.defaultTenant}`,
    'Ctrl-C stops the provider and the RP.',
    line,
  ].join('\n');
}

/** Starts everything; the returned stop() closes the RP, the admin socket and the provider. */
export async function runDemo({ config, rpPort }: Omit<DemoConfig, 'env'>): Promise<{ banner: string; stop(): Promise<void> }> {
  const logger = createLogger(config);
  const provider: RunningServer = await startServer(config, { logger });
  let admin: AdminSocket | undefined;
  let rp: { close(): Promise<void> } | undefined;
  const stop = async () => {
    await rp?.close();
    await admin?.close();
    await provider.close();
  };
  try {
    admin = await serveAdminCommands(config.dataDir, runCli, logger);
    const rpUrl = `http://localhost:${rpPort}`;
    const seed = await seedDemo(provider, { dataDir: config.dataDir, tenant: config.defaultTenant, rpBaseUrl: rpUrl });
    logger.info({ created: seed.created }, 'demo seeded');
    const started = await startRp({ issuer: `${config.publicUrl}/t/${config.defaultTenant}`, clientId: seed.clientId, clientSecret: seed.clientSecret, port: rpPort, baseUrl: rpUrl });
    rp = started;
    const missing = checkModels({ faceModelsDir: config.faceModelsDir }).filter((m) => !m.ok).map((m) => m.name);
    return { banner: demoBanner(config, started.url, seed, missing), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

if (import.meta.main) {
  try {
    const { env, ...demoSetup } = demoConfig();
    for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
    Object.assign(process.env, env);
    const demo = await runDemo(demoSetup);
    console.log(demo.banner);
    let stopping = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // Ctrl-C reaches this process from the terminal and again through npm and bin/node24.mjs: stop once.
      process.on(signal, () => {
        if (stopping) return;
        stopping = true;
        demo.stop().then(
          () => process.exit(0),
          (e: unknown) => {
            console.error('facegate demo: stopping failed:', e);
            process.exit(1);
          },
        );
      });
    }
  } catch (e) {
    // A configuration problem or a port in use is one line; anything else keeps its stack.
    const known = e instanceof ConfigError || (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    console.error(`facegate demo: ${known ? (e as Error).message : e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  }
}
