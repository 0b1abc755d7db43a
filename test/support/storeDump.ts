/**
 * Everything a provider under test kept, as haystacks for the leak scanners (canary.ts,
 * floatVectors.ts): every row of every table of its database (the row as Postgres prints it, and
 * each binary column's bytes), every key and value under its Redis prefix, every value it ever
 * wrote to its key-value store (taken one-time values included, which a final dump no longer
 * sees), and every log line it wrote.
 */
import type { DestinationStream } from 'pino';
import { Redis } from 'ioredis';
import type { Database } from '../../src/store/db.ts';
import type { KeyValueStore } from '../../src/store/kv.ts';
import type { Haystack } from './canary.ts';

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Every row of every table outside the system schemas, read as the owner (row-level security does not apply). */
export async function dumpPostgres(db: Database): Promise<{ haystacks: Haystack[]; rowsPerTable: Map<string, number> }> {
  const haystacks: Haystack[] = [];
  const rowsPerTable = new Map<string, number>();
  await db.asOwner(async (sql) => {
    const { rows: tables } = await sql.query<{ schemaname: string; tablename: string }>(
      `SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
    );
    for (const { schemaname, tablename } of tables) {
      const table = `${quoteIdent(schemaname)}.${quoteIdent(tablename)}`;
      const { rows } = await sql.query(`SELECT __dump__::text AS "row text", __dump__.* FROM ${table} __dump__`);
      rowsPerTable.set(`${schemaname}.${tablename}`, rows.length);
      rows.forEach((row, i) => {
        const where = `postgres ${schemaname}.${tablename} row ${i}`;
        haystacks.push({ where, text: String(row['row text']) });
        for (const [column, value] of Object.entries(row)) {
          if (value instanceof Uint8Array) haystacks.push({ where: `${where} column ${column}`, bytes: value });
        }
      });
    }
  });
  return { haystacks, rowsPerTable };
}

/** Every key under `prefix` on the Redis at `url`, with its value (strings, hashes, lists, sets, sorted sets). */
export async function dumpRedis(url: string, prefix: string): Promise<Haystack[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const haystacks: Haystack[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scanBuffer(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = String(next);
      for (const keyBytes of keys) {
        const key = keyBytes.toString('utf8');
        const where = `redis ${key}`;
        haystacks.push({ where: `${where} (key)`, text: key, bytes: keyBytes });
        const type = await redis.type(key);
        const values: Buffer[] =
          type === 'string' ? [(await redis.getBuffer(key))!]
          : type === 'hash' ? Object.entries(await redis.hgetallBuffer(key)).flatMap(([f, v]) => [Buffer.from(f), v])
          : type === 'list' ? await redis.lrangeBuffer(key, 0, -1)
          : type === 'set' ? await redis.smembersBuffer(key)
          : type === 'zset' ? await redis.zrangeBuffer(key, '0', '-1')
          : [];
        for (const value of values) haystacks.push({ where, text: value.toString('utf8'), bytes: value });
      }
    } while (cursor !== '0');
    return haystacks;
  } finally {
    redis.disconnect();
  }
}

/** `kv`, also remembering every key and value written to it. */
export function recordingStore(kv: KeyValueStore): KeyValueStore & { written: Haystack[] } {
  const written: Haystack[] = [];
  const record = (key: string, value: string | null) => {
    written.push({ where: `kv write ${key} (key)`, text: key });
    if (value !== null) written.push({ where: `kv write ${key}`, text: value });
  };
  return {
    ...kv,
    written,
    setIfAbsent(key, value, ttlMs) {
      record(key, value);
      return kv.setIfAbsent(key, value, ttlMs);
    },
    setIfAbsentUnless(key, value, ttlMs, blockers) {
      record(key, value);
      return kv.setIfAbsentUnless(key, value, ttlMs, blockers);
    },
    set(key, value, ttlMs) {
      record(key, value);
      return kv.set(key, value, ttlMs);
    },
    increment(key, ttlMs) {
      record(key, null);
      return kv.increment(key, ttlMs);
    },
    compareAndSet(key, expected, value, ttlMs) {
      record(key, value);
      return kv.compareAndSet(key, expected, value, ttlMs);
    },
  };
}

/** A pino destination that keeps every line written to it. */
export function captureLogs(): DestinationStream & { lines: string[]; haystacks(): Haystack[] } {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    haystacks: () => lines.map((text, i) => ({ where: `log line ${i}`, text })),
  };
}
