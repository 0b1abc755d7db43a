import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appendAudit } from '../../src/audit/log.ts';
import { canonicalJson, CHAIN_PURPOSE } from '../../src/audit/hash.ts';
import type { AuditHead } from '../../src/audit/chain.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { createDataKey } from '../../src/store/dataKey.ts';
import { openDatabase } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let db: TestDatabase;
let tenant = '';
let n = 0;
// Every head the handle published after a commit: what the log line and anchor directory get.
const heads: AuditHead[] = [];

before(async () => {
  db = await freshDatabase();
  db.audit.onHead((h) => heads.push(h));
});
after(async () => {
  await db.close();
});

// Each test gets its own tenant with a five-event chain.
beforeEach(async () => {
  tenant = `t${++n}`;
  await db.asOwner((sql) => sql.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [tenant]));
  for (let i = 1; i <= 5; i++) {
    await db.withTenant(tenant, (sql) => appendAudit(sql, tenant, { type: 'test.event', actor: 'cli', subject: `s${i}`, data: { i, nested: { b: 2, a: [1, 'x'] } } }));
  }
});

const owner = (text: string, params: unknown[]) => db.asOwner((sql) => sql.query(text, params));
const anchored = () => heads.filter((h) => h.tenant === tenant).at(-1)!;

type Row = { seq: string; at: Date; type: string; actor: string | null; subject: string | null; data: Record<string, unknown>; key_id: string | null };

/**
 * A database writer without the data key edits row 3, then re-chains rows `from`.. with
 * `hash(event)` and `prev_hash` links, as a plain SHA-256 chain let it.
 */
async function rechain(hash: (event: Record<string, unknown>) => string, keyId: (row: Row) => string | null, from = 3) {
  await owner(`UPDATE audit_events SET data = '{"i": 99}' WHERE tenant_id = $1 AND seq = 3`, [tenant]);
  const { rows } = await owner('SELECT seq, at, type, actor, subject, data, key_id, prev_hash, hash FROM audit_events WHERE tenant_id = $1 ORDER BY seq', [tenant]);
  let prev = '0'.repeat(64);
  for (const row of rows as (Row & { hash: string })[]) {
    if (Number(row.seq) < from) {
      prev = row.hash;
      continue;
    }
    const event: Record<string, unknown> = { tenant_id: tenant, seq: Number(row.seq), at: new Date(row.at).toISOString(), type: row.type, actor: row.actor, subject: row.subject, data: row.data, prev_hash: prev };
    if (keyId(row) !== null) event.key_id = keyId(row);
    const h = hash(event);
    await owner('UPDATE audit_events SET prev_hash = $2, key_id = $3, hash = $4 WHERE tenant_id = $1 AND seq = $5', [tenant, prev, keyId(row), h, row.seq]);
    prev = h;
  }
}
const sha256 = (event: Record<string, unknown>) => createHash('sha256').update(canonicalJson(event)).digest('hex');

describe('verifyAuditChain', () => {
  it('accepts an untouched chain, linked from the genesis hash', async () => {
    assert.partialDeepStrictEqual(await verifyAuditChain(db, tenant), { ok: true, checked: 5 });
    const { rows } = await db.withTenant(tenant, (sql) => sql.query<{ seq: number; prev_hash: string; hash: string }>('SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq'));
    assert.equal(rows[0].prev_hash, '0'.repeat(64));
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i].prev_hash, rows[i - 1].hash);
  });

  it('detects an edited row at its seq', async () => {
    await owner(`UPDATE audit_events SET data = '{"i": 99}' WHERE tenant_id = $1 AND seq = 3`, [tenant]);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 2, problem: { seq: 3, reason: 'hash_mismatch' } });
  });

  it('detects an edited row whose hash was recomputed, at the next link', async () => {
    await owner(`UPDATE audit_events SET type = 'test.forged', hash = repeat('a', 64) WHERE tenant_id = $1 AND seq = 2`, [tenant]);
    const r = await verifyAuditChain(db, tenant);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.seq, 2);
  });

  it('detects a deleted middle row', async () => {
    await owner('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 3', [tenant]);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 2, problem: { seq: 3, reason: 'gap' } });
  });

  it('detects a deleted first row', async () => {
    await owner('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 1', [tenant]);
    assert.deepEqual((await verifyAuditChain(db, tenant)).problem, { seq: 1, reason: 'gap' });
  });

  it('detects two rows with swapped seq', async () => {
    await owner('UPDATE audit_events SET seq = -1 WHERE tenant_id = $1 AND seq = 2', [tenant]);
    await owner('UPDATE audit_events SET seq = 2 WHERE tenant_id = $1 AND seq = 4', [tenant]);
    await owner('UPDATE audit_events SET seq = 4 WHERE tenant_id = $1 AND seq = -1', [tenant]);
    const r = await verifyAuditChain(db, tenant);
    assert.equal(r.ok, false);
    assert.equal(r.problem?.seq, 2);
  });

  it('detects the newest row deleted by the owner, against the head anchored after its commit', async () => {
    const head = anchored();
    assert.equal(head.seq, 5);
    assert.partialDeepStrictEqual(await verifyAuditChain(db, tenant, [head]), { ok: true, checked: 5, head: { seq: 5, hash: head.hash } });
    await owner('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 5', [tenant]);
    // The shorter chain is consistent in itself: only the anchor tells.
    assert.equal((await verifyAuditChain(db, tenant)).ok, true);
    assert.deepEqual(await verifyAuditChain(db, tenant, [head]), { ok: false, checked: 4, problem: { seq: 5, reason: 'truncated' } });
  });

  it('detects a newest row replaced after it was anchored', async () => {
    const head = anchored();
    assert.deepEqual(await verifyAuditChain(db, tenant, [{ seq: 5, hash: head.hash.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }]), {
      ok: false,
      checked: 4,
      problem: { seq: 5, reason: 'anchor_mismatch' },
    });
  });

  it('publishes no head for a rolled-back append', async () => {
    const before = heads.length;
    await assert.rejects(
      db.withTenant(tenant, async (sql) => {
        await appendAudit(sql, tenant, { type: 'test.rolled_back' });
        throw new Error('caller failed');
      }),
    );
    assert.equal(heads.length, before);
    assert.equal((await verifyAuditChain(db, tenant, [anchored()])).ok, true);
  });

  it('detects an edited row re-chained with plain SHA-256 (the unkeyed chain)', async () => {
    await rechain(sha256, (row) => row.key_id);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 2, problem: { seq: 3, reason: 'hash_mismatch' } });
  });

  it('detects a whole chain re-written as unkeyed SHA-256 rows', async () => {
    await rechain(sha256, () => null, 1);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 0, problem: { seq: 1, reason: 'unkeyed' } });
  });

  it('detects an edited row re-chained with another key under the same key id', async () => {
    const forger = createDataKey([{ id: db.dataKey.currentId, key: randomBytes(32) }]);
    await rechain((event) => forger.mac(CHAIN_PURPOSE, canonicalJson(event)), (row) => row.key_id);
    assert.deepEqual(await verifyAuditChain(db, tenant), { ok: false, checked: 2, problem: { seq: 3, reason: 'hash_mismatch' } });
  });

  it('checks only its own tenant', async () => {
    const other = `${tenant}-other`;
    await db.asOwner((sql) => sql.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [other]));
    await db.withTenant(other, (sql) => appendAudit(sql, other, { type: 'test.event' }));
    await owner(`UPDATE audit_events SET data = '{}' WHERE tenant_id = $1 AND seq = 1`, [tenant]);
    assert.partialDeepStrictEqual(await verifyAuditChain(db, other), { ok: true, checked: 1 });
  });
});

describe('data key rotation', () => {
  it('keeps rows chained under an older key verifiable while it is configured, and names a missing key', async () => {
    const k1 = { id: 'k1', key: randomBytes(32) };
    const k2 = { id: 'k2', key: randomBytes(32) };
    const base = process.env.DATABASE_URL ? await freshDatabase() : undefined;
    const dir = mkdtempSync(path.join(tmpdir(), 'fg-rotate-'));
    const open = (roots: (typeof k1)[]) => openDatabase({ url: base?.url, dataDir: dir, dataKey: createDataKey(roots) });
    const append = (h: ReturnType<typeof open>) => h.withTenant('r', (sql) => appendAudit(sql, 'r', { type: 'test.event' }));
    try {
      let h = open([k1]);
      await migrate(h);
      await h.asOwner((sql) => sql.query(`INSERT INTO tenants (id, name) VALUES ('r', 'R')`));
      await append(h);
      await append(h);
      await h.close();
      h = open([k2, k1]);
      await append(h);
      assert.partialDeepStrictEqual(await verifyAuditChain(h, 'r'), { ok: true, checked: 3 });
      const { rows } = await h.withTenant('r', (sql) => sql.query('SELECT key_id FROM audit_events ORDER BY seq'));
      assert.deepEqual(rows.map((r) => r.key_id), ['k1', 'k1', 'k2']);
      await h.close();
      h = open([k2]);
      assert.deepEqual(await verifyAuditChain(h, 'r'), { ok: false, checked: 0, problem: { seq: 1, reason: 'unknown_key' } });
      await h.close();
    } finally {
      await base?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('audit_events is append-only for the app role', () => {
  it('refuses UPDATE and DELETE', async () => {
    await assert.rejects(db.withTenant(tenant, (sql) => sql.query(`UPDATE audit_events SET type = 'x' WHERE seq = 1`)), /permission denied/);
    await assert.rejects(db.withTenant(tenant, (sql) => sql.query('DELETE FROM audit_events WHERE seq = 1')), /permission denied/);
    assert.equal((await verifyAuditChain(db, tenant)).ok, true);
  });
});
