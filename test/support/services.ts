/**
 * Test access to the real services. With DATABASE_URL set, each caller gets a fresh database
 * on that server (dropped by `close`), so test files can run in parallel; without it, an
 * in-memory PGlite. With REDIS_URL set, a real Redis under a unique key prefix; otherwise the
 * in-process store.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openKeyValueStore, type KeyValueStore } from '../../src/store/kv.ts';

export type TestDatabase = Database & { url: string | undefined };

/** `base` is the server to create the database on (default DATABASE_URL; none → PGlite). */
export async function freshDatabase(base = process.env.DATABASE_URL): Promise<TestDatabase> {
  if (!base) {
    const db = openDatabase({});
    await migrate(db);
    return Object.assign(db, { url: undefined });
  }
  const name = `facegate_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const db = openDatabase({ url: u.toString() });
  await migrate(db);
  const close = db.close;
  return Object.assign(db, {
    url: u.toString(),
    close: async () => {
      await close();
      const a = new pg.Client({ connectionString: base });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  });
}

export function freshKeyValueStore(): KeyValueStore {
  return openKeyValueStore(process.env.REDIS_URL, `facegate-test:${randomBytes(6).toString('hex')}:`);
}

export const usingRealServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
