/** Test rows: a tenant and users inserted directly with SQL (tenants as owner, users under RLS). */
import { randomBytes, randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { freshDatabase, freshKeyValueStore } from '../support/services.ts';
import type { Database } from '../../src/store/db.ts';
import type { Kek } from '../../src/custodian/sealedKey.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kekRing, type KekRing } from '../../src/custodian/kek.ts';
import { openKekStore } from '../../src/custodian/kekStore.ts';

export async function seedTenant(db: Database, tenantId: string): Promise<void> {
  await db.asOwner((sql) => sql.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [tenantId]));
}

export async function seedUser(db: Database, tenantId: string): Promise<string> {
  const id = randomUUID();
  await db.withTenant(tenantId, (sql) => sql.query('INSERT INTO users (tenant_id, id, username) VALUES ($1, $2, $3)', [tenantId, id, `u${id.slice(0, 8)}`]));
  return id;
}

export function newKek(id: string): Kek {
  return { id, key: randomBytes(32) };
}

const rings = new Map<Kek, KekRing>();
/**
 * A custodian key ring over a fresh key store in a temporary directory, sealed under `wrapping`
 * (which also opens keys sealed before epochs); the same ring for the same KEK within a file.
 */
export function testKekRing(wrapping: Kek = newKek('w')): KekRing & { dir: string } {
  const known = rings.get(wrapping);
  if (known) return known as KekRing & { dir: string };
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-keys-'));
  // Not after(): a ring made inside a hook would lose its directory when that hook's scope ends.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const ring = Object.assign(kekRing(openKekStore(dir, [wrapping]), [wrapping]), { dir });
  rings.set(wrapping, ring);
  return ring;
}

export async function auditTypes(db: Database, tenantId: string, subject?: string): Promise<string[]> {
  const { rows } = await db.withTenant(tenantId, (sql) =>
    sql.query<{ type: string }>('SELECT type FROM audit_events WHERE tenant_id = $1 AND ($2::text IS NULL OR subject = $2) ORDER BY seq', [tenantId, subject ?? null]),
  );
  return rows.map((r) => r.type);
}

/** A fresh database and key-value store for one test file, closed after its tests. */
export async function testStores() {
  const db = await freshDatabase();
  const kv = freshKeyValueStore();
  after(async () => {
    await db.close();
    await kv.close();
  });
  return { db, kv };
}
