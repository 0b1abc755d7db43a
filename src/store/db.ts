/**
 * Durable storage: Postgres through `pg`, or PGlite (Postgres in WASM) when no DATABASE_URL is
 * set. Both run the same SQL. Tenant-scoped work runs as the unprivileged `facegate_app` role
 * with `app.tenant_id` set for the transaction, so row-level security isolates tenants even
 * where a query forgets its WHERE clause. In production the connection itself is a login role
 * with only the app role's privileges (DATABASE_URL); the owner connects only to migrate
 * (DATABASE_OWNER_URL), so the server cannot delete or rewrite audit rows. A handle is opened
 * with the data key that MACs the audit chain, and publishes each committed audit head.
 */
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Config } from '../config.ts';
import { TENANT_ID } from '../ids.ts';
import { createAuditChain, type AuditChain, type AuditChainHandle, type AuditTransaction } from '../audit/chain.ts';
import { anchorToDirectory } from '../audit/anchor.ts';
import { resolveDataKey, type DataKey } from './dataKey.ts';
import { embeddedDatabaseDir, openEmbeddedOnce } from './embeddedHandle.ts';
import type { LockHolderKind } from './dataDirLock.ts';

export type Row = Record<string, unknown>;

/** A query runner bound to one connection/transaction. */
export type Sql = {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<{ rows: T[]; rowCount: number }>;
  /** The audit chain as this transaction sees it (`appendAudit` keys and reports rows here). */
  readonly audit: AuditTransaction;
};

export type Database = {
  /** Runs `fn` in a transaction as the app role, scoped to `tenantId` by RLS. */
  withTenant<T>(tenantId: string, fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction as the app role with no tenant (sees only unscoped tables). */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a transaction as the connecting role: the owner only where the handle was opened
   * with the owner's URL (migrations, tests); the server's production connection is not.
   */
  asOwner<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * One statement in a tenant scope, as its own transaction. On Postgres it costs one round
   * trip (parameters are sent as escaped literals in a single script): the OIDC adapter's hot path.
   */
  statement<T extends Row = Row>(tenantId: string, text: string, params?: unknown[]): Promise<{ rows: T[]; rowCount: number }>;
  /** Runs a multi-statement SQL script (no parameters) as the connecting role. */
  exec(script: string): Promise<void>;
  /**
   * The same connections, with `withTenant`, `transaction` and `statement` running as `role`
   * instead of facegate_app (the custodian's handle: CUSTODIAN_ROLE). Closing it closes nothing:
   * the handle it came from owns the connections.
   */
  forRole(role: string): Database;
  readonly kind: 'postgres' | 'pglite';
  /** The audit chain's key, and where committed heads go (`onHead`). */
  readonly audit: AuditChain;
  close(): Promise<void>;
};

export const APP_ROLE = 'facegate_app';
/** The custodian's group role (migration 0007): its tables and audit appends, no templates. */
export const CUSTODIAN_ROLE = 'facegate_custodian';
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** `role` undefined: the connecting role itself (owner scope). */
type Scope = { role?: string; tenantId?: string };

async function enterScope(sql: Sql, scope: Scope): Promise<void> {
  if (scope.tenantId !== undefined && !TENANT_ID.test(scope.tenantId)) throw new Error('invalid tenant id');
  if (scope.role !== undefined) await sql.query(`SET LOCAL ROLE ${checkedRole(scope.role)}`);
  if (scope.tenantId !== undefined) await sql.query(`SELECT set_config('app.tenant_id', $1, true)`, [scope.tenantId]);
}

function checkedRole(role: string): string {
  if (!ROLE_NAME.test(role)) throw new Error('invalid role name');
  return role;
}

function beginScript(scope: Scope): string {
  let script = 'BEGIN;';
  if (scope.role !== undefined) script += ` SET LOCAL ROLE ${checkedRole(scope.role)};`;
  if (scope.tenantId !== undefined) {
    if (!TENANT_ID.test(scope.tenantId)) throw new Error('invalid tenant id');
    script += ` SELECT set_config('app.tenant_id', '${scope.tenantId}', true);`;
  }
  return script;
}

function postgres(url: string, chain: AuditChainHandle): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {});
  return postgresHandle(pool, chain, APP_ROLE, () => pool.end());
}

function postgresHandle(pool: pg.Pool, chain: AuditChainHandle, appRole: string, close: () => Promise<void>): Database {
  async function run<T>(scope: Scope, fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    const tx = chain.begin();
    const sql: Sql = {
      query: async (text, params) => {
        const r = await client.query(text, params as unknown[]);
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      },
      audit: tx.audit,
    };
    try {
      // One round trip to open the transaction and enter the scope: the tenant id is inlined
      // as a quoted literal (validated below), which keeps hot paths like the token endpoint fast.
      await client.query(beginScript(scope));
      const result = await fn(sql);
      await client.query('COMMIT');
      tx.committed();
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
    audit: chain,
    async statement(tenantId, text, params = []) {
      const script = `${beginScript({ role: appRole, tenantId })} ${inlineParams(text, params)}; COMMIT;`;
      const client = await pool.connect();
      try {
        const results = (await client.query(script)) as unknown as pg.QueryResult[];
        const r = results[results.length - 2];
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    withTenant: (tenantId, fn) => run({ role: appRole, tenantId }, fn),
    transaction: (fn) => run({ role: appRole }, fn),
    asOwner: (fn) => run({}, fn),
    exec: async (script) => {
      await pool.query(script);
    },
    forRole: (role) => postgresHandle(pool, chain, checkedRole(role), async () => {}),
    close,
  };
}

function pglite(dataDir: string | undefined, chain: AuditChainHandle): Database {
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  return pgliteHandle(db, chain, APP_ROLE, () => db.close());
}

function pgliteHandle(db: PGlite, chain: AuditChainHandle, appRole: string, close: () => Promise<void>): Database {
  async function run<T>(scope: Scope, fn: (sql: Sql) => Promise<T>): Promise<T> {
    const audit = chain.begin();
    const result = await db.transaction(async (tx) => {
      const sql: Sql = {
        query: async (text, params) => {
          const r = await tx.query(text, params as unknown[]);
          // PGlite reports affectedRows 0 for a SELECT: count returned rows then, like pg's rowCount.
          return { rows: r.rows as never[], rowCount: r.rows.length > 0 ? r.rows.length : (r.affectedRows ?? 0) };
        },
        audit: audit.audit,
      };
      await enterScope(sql, scope);
      return fn(sql);
    });
    audit.committed();
    return result;
  }
  return {
    kind: 'pglite',
    audit: chain,
    statement: (tenantId, text, params) => run({ role: appRole, tenantId }, (sql) => sql.query(text, params)),
    withTenant: (tenantId, fn) => run({ role: appRole, tenantId }, fn),
    transaction: (fn) => run({ role: appRole }, fn),
    asOwner: (fn) => run({}, fn),
    exec: async (script) => {
      await db.exec(script);
    },
    forRole: (role) => pgliteHandle(db, chain, checkedRole(role), async () => {}),
    close,
  };
}

/** An SQL literal for a parameter value (standard_conforming_strings on, as since PG 9.1). */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number parameter');
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return escapeLiteral(value.toISOString());
  if (value instanceof Uint8Array) return `'\\x${Buffer.from(value).toString('hex')}'::bytea`;
  if (Array.isArray(value)) return `ARRAY[${value.map(sqlLiteral).join(',')}]`;
  if (typeof value === 'object') return escapeLiteral(JSON.stringify(value));
  return escapeLiteral(String(value));
}

function escapeLiteral(text: string): string {
  if (text.includes('\0')) throw new TypeError('NUL byte in parameter');
  return `'${text.replace(/'/g, "''")}'`;
}

/** Replaces `$n` placeholders (outside quoted text) with literals. */
export function inlineParams(text: string, params: unknown[]): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new TypeError('unterminated quote in statement');
      out += text.slice(i, end + 1);
      i = end;
      continue;
    }
    const m = ch === '$' ? /^\$(\d+)/.exec(text.slice(i)) : null;
    if (m) {
      const index = Number(m[1]) - 1;
      if (index < 0 || index >= params.length) throw new TypeError(`no parameter $${m[1]}`);
      out += sqlLiteral(params[index]);
      i += m[0].length - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

/**
 * The configured database: DATABASE_URL, or the embedded PGlite in `<DATA_DIR>/pglite`; audit
 * rows chained with the data key and their heads anchored in AUDIT_ANCHOR_DIR when there is one.
 */
export function openConfiguredDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'dataKeys' | 'auditAnchorDir'>,
  dataKey: DataKey = resolveDataKey(config),
  holder: LockHolderKind = 'command',
): Database {
  return openDatabase({ url: config.databaseUrl, dataDir: embeddedDatabaseDir(config.dataDir), dataKey, anchorDir: config.auditAnchorDir, holder });
}

/**
 * Opens Postgres at `url`, or PGlite in `dataDir` (in memory when `dataDir` is undefined), with
 * `dataKey` keying the audit chain and committed heads written to `anchorDir` if given. PGlite in
 * a directory is opened once per process and locked against others (embeddedHandle.ts);
 * `holder` says what this process is, for whoever finds the lock taken.
 */
export function openDatabase(opts: { url?: string; dataDir?: string; dataKey: DataKey; anchorDir?: string; holder?: LockHolderKind }): Database {
  const open = () => {
    const chain = createAuditChain(opts.dataKey);
    if (opts.anchorDir) chain.onHead(anchorToDirectory(opts.anchorDir));
    return opts.url ? postgres(opts.url, chain) : pglite(opts.dataDir, chain);
  };
  if (opts.url || opts.dataDir === undefined) return open();
  return openEmbeddedOnce(opts.dataDir, opts.dataKey, opts.holder ?? 'command', open);
}
