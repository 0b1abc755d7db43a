/**
 * Test access to the real services. With DATABASE_URL set, each caller gets a fresh database
 * on that server (dropped by `close`), so test files can run in parallel; without it, an
 * in-memory PGlite. The handle connects as the schema owner (tests set up and tamper with rows);
 * `appUrl` connects as production's server does, a login role with only facegate_app's
 * privileges. With REDIS_URL set, a real Redis under a unique key prefix; otherwise the
 * in-process store.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openKeyValueStore, type KeyValueStore } from '../../src/store/kv.ts';
import { ephemeralDataKey, type DataKey } from '../../src/store/dataKey.ts';

/** The login role tests connect as, like production's server (created once per Postgres cluster). */
export const TEST_APP_LOGIN = 'facegate_test_server';
/** The separate custodian's login role in tests, a member of facegate_custodian only. */
export const TEST_CUSTODIAN_LOGIN = 'facegate_test_custodian';

export type TestDatabase = Database & {
  url: string | undefined;
  /** The same database as the app's login role (Postgres only). */
  appUrl: string | undefined;
  /** The same database as the custodian's login role (Postgres only). */
  custodianUrl: string | undefined;
  /** The data key the handle chains audit rows with. */
  dataKey: DataKey;
};

/** `base` is the server to create the database on (default DATABASE_URL; none → PGlite). */
export async function freshDatabase(base = process.env.DATABASE_URL, dataKey = ephemeralDataKey()): Promise<TestDatabase> {
  if (!base) {
    const db = openDatabase({ dataKey });
    await migrate(db);
    return Object.assign(db, { url: undefined, appUrl: undefined, custodianUrl: undefined, dataKey });
  }
  const name = `facegate_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const db = openDatabase({ url: u.toString(), dataKey });
  await migrate(db);
  // Roles are per cluster: parallel test files may race to create it.
  for (const [login, group] of [[TEST_APP_LOGIN, 'facegate_app'], [TEST_CUSTODIAN_LOGIN, 'facegate_custodian']]) {
    await db.exec(`DO $$ BEGIN
      CREATE ROLE ${login} LOGIN IN ROLE ${group};
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
  }
  const loginUrl = (login: string) => {
    const l = new URL(u);
    l.username = login;
    l.password = '';
    return l.toString();
  };
  const close = db.close;
  return Object.assign(db, {
    url: u.toString(),
    appUrl: loginUrl(TEST_APP_LOGIN),
    custodianUrl: loginUrl(TEST_CUSTODIAN_LOGIN),
    dataKey,
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
