/** Starts a real provider on a free loopback port against the test database and store. */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { freshDatabase, freshKeyValueStore } from './services.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** `logger` lets a test read the log lines (see createLogger's destination). */
export async function startTestServer(env: Record<string, string> = {}, logger?: Logger): Promise<RunningServer> {
  const port = await freePort();
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent', COOKIE_KEYS: randomBytes(32).toString('hex'), ...env });
  const db = await freshDatabase();
  const kv = freshKeyValueStore();
  return startServer(config, { db, kv, dataKey: ephemeralDataKey(), logger });
}
