/** Starts a real provider on a free loopback port against the test database and store. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { freshDatabase, freshKeyValueStore } from './services.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * `env` overrides the config. `given.localhost` serves it as http://localhost:PORT (its `url`
 * too), which passkeys and so the face step need: WebAuthn refuses an IP address as RP ID.
 * `given.kv` and `given.logDestination` replace the fresh store and the discarded log.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  given: { localhost?: boolean; kv?: KeyValueStore; logDestination?: DestinationStream } = {},
): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://${given.localhost ? 'localhost' : '127.0.0.1'}:${port}`;
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: url, LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent', COOKIE_KEYS: randomBytes(32).toString('hex'), ...env });
  const db = await freshDatabase();
  const kv = given.kv ?? freshKeyValueStore();
  const running = await startServer(config, { db, kv, dataKey: ephemeralDataKey(), logDestination: given.logDestination });
  return { ...running, url };
}
