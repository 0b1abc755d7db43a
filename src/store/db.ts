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
  /**
   * Delivers each NOTIFY on `channel` committed by any connection to `notify`. `lost` is called
   * whenever some may have been missed (connection lost; it reconnects), `ready` once listening
   * again, so a cache kept fresh by notifications can stop serving in between.
   */
  listen(channel: string, handlers: ListenHandlers): { close(): Promise<void> };
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

export type ListenHandlers = { notify(payload: string): void; ready(): void; lost(): void };

export const APP_ROLE = 'facegate_app';
/** The custodian's group role (migration 0007): its tables and audit appends, no templates. */
export const CUSTODIAN_ROLE = 'facegate_custodian';
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Wait before listening again after the connection was lost. */
const RELISTEN_MS = 1000;

/** LISTEN on a connection of its own (a pooled one would be handed to others), kept up while open. */
function postgresListener(url: string, channel: string, handlers: ListenHandlers): { close(): Promise<void> } {
  if (!/^[a-z_]+$/.test(channel)) throw new Error('invalid channel');
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = () => {
    const c = new pg.Client({ connectionString: url });
    client = c;
    let down = false;
    const fail = () => {
      if (down) return;
      down = true;
      handlers.lost();
      c.end().catch(() => {});
      if (!closed) retry = setTimeout(connect, RELISTEN_MS);
    };
    c.on('error', fail);
    c.on('end', fail);
    c.on('notification', (m) => {
      if (m.channel === channel) handlers.notify(m.payload ?? '');
    });
    c.connect()
      .then(() => c.query(`LISTEN ${channel}`))
      .then(() => {
        if (!down && !closed) handlers.ready();
      }, fail);
  };
  connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      handlers.lost();
      await client?.end().catch(() => {});
    },
  };
}

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
  return postgresHandle(url, pool, chain, APP_ROLE, () => pool.end());
}

function postgresHandle(url: string, pool: pg.Pool, chain: AuditChainHandle, appRole: string, close: () => Promise<void>): Database {
  const statements = statementBatcher(pool, appRole);
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
    statement: (tenantId, text, params = []) => statements.run(tenantId, text, params),
    listen: (channel, handlers) => postgresListener(url, channel, handlers),
    withTenant: (tenantId, fn) => run({ role: appRole, tenantId }, fn),
    transaction: (fn) => run({ role: appRole }, fn),
    asOwner: (fn) => run({}, fn),
    exec: async (script) => {
      await pool.query(script);
    },
    forRole: (role) => postgresHandle(url, pool, chain, checkedRole(role), async () => {}),
    close,
  };
}

type Queued = { tenantId: string; sql: string; resolve(r: { rows: Row[]; rowCount: number }): void; reject(e: unknown): void };

/**
 * Group commit for `Database.statement`: statements queued while the batches in flight are busy
 * go to Postgres together, as ONE script and one transaction (`app.tenant_id` set before each),
 * so a burst costs one round trip, one BEGIN/COMMIT and one WAL flush instead of one per
 * statement. Each statement still sees its predecessors in the batch, as if run one after the
 * other; a conditional UPDATE still matches once. If any statement fails the batch is rolled
 * back and each statement is run again alone, so a failure reaches only its own caller.
 * With few batches in flight, code holding a transaction must not wait for a statement that
 * needs a row that transaction locked (nothing does: only consents.ts locks oidc_payloads rows,
 * and it calls no statement inside).
 * `MAX_BATCHES_IN_FLIGHT` 2: one per core of the 2-core target, where Postgres itself is the
 * limit; more in flight would only split a burst into more, smaller batches. `MAX_BATCH` bounds
 * the script (and what one failing statement makes run again alone).
 */
const MAX_BATCHES_IN_FLIGHT = 2;
const MAX_BATCH = 64;

function statementBatcher(pool: pg.Pool, role: string) {
  const queue: Queued[] = [];
  let inFlight = 0;
  async function send(batch: Queued[]): Promise<void> {
    // The tenant is set again only where it changes: `resultIndex` says where each reply is.
    let script = `BEGIN; SET LOCAL ROLE ${role};`;
    let replies = 2;
    let tenant: string | undefined;
    const resultIndex: number[] = [];
    for (const q of batch) {
      if (q.tenantId !== tenant) {
        tenant = q.tenantId;
        script += ` SELECT set_config('app.tenant_id', '${tenant}', true);`;
        replies++;
      }
      script += ` ${q.sql};`;
      resultIndex.push(replies++);
    }
    script += ' COMMIT;';
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      for (const q of batch) q.reject(e);
      return;
    }
    let results: pg.QueryResult[];
    try {
      const r = (await client.query(script)) as unknown as pg.QueryResult[] | pg.QueryResult;
      results = Array.isArray(r) ? r : [r];
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
      if (batch.length === 1) return batch[0].reject(e);
      // Which statement failed is not reported: run each alone (the batch was rolled back).
      await Promise.all(batch.map((q) => send([q])));
      return;
    }
    client.release();
    batch.forEach((q, i) => {
      const r = results[resultIndex[i]];
      q.resolve({ rows: r.rows, rowCount: r.rowCount ?? 0 });
    });
  }
  function pump() {
    while (inFlight < MAX_BATCHES_IN_FLIGHT && queue.length > 0) {
      inFlight++;
      const batch = queue.splice(0, MAX_BATCH);
      send(batch)
        // Only an unexpected reply shape gets here; a promise already settled ignores this.
        .catch((e) => batch.forEach((q) => q.reject(e)))
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  }
  return {
    run<T extends Row>(tenantId: string, text: string, params: unknown[]): Promise<{ rows: T[]; rowCount: number }> {
      if (!TENANT_ID.test(tenantId)) return Promise.reject(new Error('invalid tenant id'));
      let sql: string;
      try {
        sql = inlineParams(text, params);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve, reject) => {
        queue.push({ tenantId, sql, resolve: resolve as Queued['resolve'], reject });
        pump();
      });
    },
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
    // One connection in this process: a notification is delivered with the COMMIT that raised it.
    listen(channel, handlers) {
      const unlisten = db.listen(channel, handlers.notify).then((stop) => {
        handlers.ready();
        return stop;
      });
      return {
        async close() {
          handlers.lost();
          await (await unlisten)();
        },
      };
    },
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
