/**
 * Durable storage: Postgres through `pg`, or PGlite (Postgres in WASM) when no DATABASE_URL is
 * set. Both run the same SQL. Tenant-scoped work runs as the unprivileged `facegate_app` role
 * with `app.tenant_id` set for the transaction, so row-level security isolates tenants even
 * where a query forgets its WHERE clause.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

export type Row = Record<string, unknown>;

/** A query runner bound to one connection/transaction. */
export type Sql = {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<{ rows: T[]; rowCount: number }>;
};

export type Database = {
  /** Runs `fn` in a transaction as the app role, scoped to `tenantId` by RLS. */
  withTenant<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction as the app role with no tenant (sees only unscoped tables). */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction as the connecting (owner) role: migrations and admin only. */
  asOwner<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs a multi-statement SQL script (no parameters) as owner. */
  exec(script: string): Promise<void>;
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
};

export const APP_ROLE = 'facegate_app';

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

type Scope = { role: 'app' | 'owner'; tenantId?: string };

async function enterScope(sql: Sql, scope: Scope): Promise<void> {
  if (scope.tenantId !== undefined && !TENANT_ID.test(scope.tenantId)) throw new Error('invalid tenant id');
  if (scope.role === 'app') await sql.query(`SET LOCAL ROLE ${APP_ROLE}`);
  if (scope.tenantId !== undefined) await sql.query(`SELECT set_config('app.tenant_id', $1, true)`, [scope.tenantId]);
}

function beginScript(scope: Scope): string {
  let script = 'BEGIN;';
  if (scope.role === 'app') script += ` SET LOCAL ROLE ${APP_ROLE};`;
  if (scope.tenantId !== undefined) {
    if (!TENANT_ID.test(scope.tenantId)) throw new Error('invalid tenant id');
    script += ` SELECT set_config('app.tenant_id', '${scope.tenantId}', true);`;
  }
  return script;
}

function postgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {});
  async function run<T>(scope: Scope, fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    const sql: Sql = {
      query: async (text, params) => {
        const r = await client.query(text, params as unknown[]);
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      },
    };
    try {
      // One round trip to open the transaction and enter the scope: the tenant id is inlined
      // as a quoted literal (validated below), which keeps hot paths like the token endpoint fast.
      await client.query(beginScript(scope));
      const result = await fn(sql);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }
  return {
    kind: 'postgres',
    withTenant: (tenantId, fn) => run({ role: 'app', tenantId }, fn),
    transaction: (fn) => run({ role: 'app' }, fn),
    asOwner: (fn) => run({ role: 'owner' }, fn),
    exec: async (script) => {
      await pool.query(script);
    },
    close: () => pool.end(),
  };
}

function pglite(dataDir: string | undefined): Database {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  async function run<T>(scope: Scope, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return db.transaction(async (tx) => {
      const sql: Sql = {
        query: async (text, params) => {
          const r = await tx.query(text, params as unknown[]);
          return { rows: r.rows as never[], rowCount: r.affectedRows ?? r.rows.length };
        },
      };
      await enterScope(sql, scope);
      return fn(sql);
    });
  }
  return {
    kind: 'pglite',
    withTenant: (tenantId, fn) => run({ role: 'app', tenantId }, fn),
    transaction: (fn) => run({ role: 'app' }, fn),
    asOwner: (fn) => run({ role: 'owner' }, fn),
    exec: async (script) => {
      await db.exec(script);
    },
    close: () => db.close(),
  };
}

/** Opens Postgres at `url`, or PGlite in `dataDir` (in memory when `dataDir` is undefined). */
export function openDatabase(opts: { url?: string; dataDir?: string }): Database {
  return opts.url ? postgres(opts.url) : pglite(opts.dataDir);
}
