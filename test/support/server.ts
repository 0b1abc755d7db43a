/** Starts a real provider on a free loopback port against the test database and store. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { freshDatabase, freshKeyValueStore } from './services.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

export type TestServerOptions = {
  /**
   * `localhost` serves PUBLIC_URL on http://localhost:<port>, which turns face sign-in on (a
   * WebAuthn RP ID cannot be an IP address; Chromium refuses one) with a throw-away KEK for the
   * custodian; the default 127.0.0.1 leaves it off. `url` then names that host.
   */
  host?: '127.0.0.1' | 'localhost';
  /** Replaces the fresh key-value store (a test that inspects what was written). */
  kv?: KeyValueStore;
  /** Lets a test read the log lines (see createLogger's destination). */
  logger?: Logger;
};

export async function startTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<RunningServer> {
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  // Every server's in-process custodian gets a KEK and a key store of its own: nothing is written
  // under DATA_DIR, which does not exist, and no two servers share epochs.
  const keys = { FACEGATE_KEK: `test:${randomBytes(32).toString('base64')}`, CUSTODIAN_KEY_DIR: mkdtempSync(path.join(tmpdir(), 'facegate-keys-')) };
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://${host}:${port}`, LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent', COOKIE_KEYS: randomBytes(32).toString('hex'), ...keys, ...env });
  const db = await freshDatabase();
  const kv = options.kv ?? freshKeyValueStore();
  const running = await startServer(config, { db, kv, dataKey: db.dataKey, logger: options.logger });
  return host === 'localhost' ? Object.assign(running, { url: `http://localhost:${port}` }) : running;
}
