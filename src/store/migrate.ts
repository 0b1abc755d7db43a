/**
 * Applies the plain SQL files in `migrations/` in name order, each once, recorded in
 * `schema_migrations`. Safe to run concurrently: an advisory lock serialises runners on the same
 * database. A connection that may not change the schema (the server's app role in production)
 * passes when nothing is pending and otherwise fails with what to run instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import type { Database } from './db.ts';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');
const LOCK_ID = 7_461_001;

export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  try {
    await db.asOwner(async (sql) => {
      await sql.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
      // Not CREATE … IF NOT EXISTS: that needs CREATE on the schema even when the table exists.
      const { rows } = await sql.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
      if (rows[0].t === null) await sql.query('CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Set((await sql.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
      for (const file of files) {
        if (done.has(file)) continue;
        // Statements run one by one so both pg (simple protocol) and PGlite accept the script
        // inside the surrounding transaction.
        for (const statement of splitStatements(readFileSync(path.join(dir, file), 'utf8'))) await sql.query(statement);
        await sql.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        applied.push(file);
      }
    });
  } catch (e) {
    // insufficient_privilege: the app role met a pending migration (or a schema it cannot read).
    if ((e as { code?: string }).code === '42501') {
      throw new ConfigError('the database schema is not up to date and this connection may not migrate it: run `npm run migrate` with DATABASE_OWNER_URL (the schema owner) first');
    }
    throw e;
  }
  return applied;
}

/** Splits a SQL script on top-level semicolons, keeping `$$ … $$` bodies and comments intact. */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let dollar: string | null = null;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i];
    if (dollar === null && ch === '-' && script[i + 1] === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end;
      current += '\n';
      continue;
    }
    if (dollar === null && ch === "'") {
      const end = script.indexOf("'", i + 1);
      current += script.slice(i, end + 1);
      i = end;
      continue;
    }
    if (ch === '$') {
      const m = /^\$[A-Za-z_]*\$/.exec(script.slice(i));
      if (m) {
        if (dollar === null) dollar = m[0];
        else if (dollar === m[0]) dollar = null;
        current += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    if (ch === ';' && dollar === null) {
      if (current.trim()) out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
