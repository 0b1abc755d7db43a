/**
 * `facegate audit verify` as an operator runs it: the server's handle anchors each committed head
 * in AUDIT_ANCHOR_DIR, then the owner deletes the newest row. Postgres when DATABASE_URL is set,
 * otherwise PGlite in a temporary data directory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/audit/cli.ts';
import { appendAudit } from '../../src/audit/log.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { loadConfig } from '../../src/config.ts';
import { openConfiguredDatabase } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let pg: TestDatabase | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'fg-audit-cli-'));
const anchorDir = path.join(dir, 'anchors');
let env: Record<string, string | undefined>;

async function verify(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['audit', 'verify', '--tenant', 'acme', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** As the owner (a DBA, or anyone with the owner's DSN), outside the server. */
async function asOwner(text: string) {
  const db = openConfiguredDatabase(loadConfig(env));
  try {
    await db.asOwner((sql) => sql.query(text));
  } finally {
    await db.close();
  }
}

before(async () => {
  pg = process.env.DATABASE_URL ? await freshDatabase() : undefined;
  env = { DATABASE_URL: pg?.url, DATA_DIR: dir, AUDIT_ANCHOR_DIR: anchorDir, FACEGATE_DATA_KEY: `k1:${randomBytes(32).toString('base64')}` };
  const db = openConfiguredDatabase(loadConfig(env));
  try {
    await migrate(db);
    await createTenant(db, { id: 'acme', name: 'Acme' }, 'test');
    for (let i = 0; i < 3; i++) await db.withTenant('acme', (sql) => appendAudit(sql, 'acme', { type: 'test.event', data: { i } }));
  } finally {
    await db.close(); // PGlite is single-process: let the CLI open it
  }
});
after(async () => {
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('facegate audit verify', () => {
  let head = '';
  it('accepts the untouched log and reports the head it anchored', async () => {
    head = readFileSync(path.join(anchorDir, 'acme.head'), 'utf8').trim();
    assert.match(head, /^4:[A-Za-z0-9_-]{43}$/);
    const r = await verify();
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`ok \\(4 events\\); head ${head}; contains the anchored head from .*acme\\.head \\(seq 4\\)`));
    assert.equal((await verify('--expect-head', head)).code, 0);
  });

  it('refuses a malformed --expect-head', async () => {
    await assert.rejects(verify('--expect-head', 'latest'), { code: 'audit.invalid_head' });
  });

  it('fails once the newest row is deleted, naming the anchored head', async () => {
    await asOwner(`DELETE FROM audit_events WHERE tenant_id = 'acme' AND seq = 4`);
    const r = await verify();
    assert.equal(r.code, 1);
    assert.match(r.err, /BROKEN at seq 4 \(truncated: the log ends before the anchored head: its newest rows were deleted\); anchored head 4:\S+ from .*acme\.head; 3 events verified before it/);
    // The operator's own record of the head fails the same way without the directory.
    env = { ...env, AUDIT_ANCHOR_DIR: path.join(dir, 'none') };
    const given = await verify('--expect-head', head);
    assert.equal(given.code, 1);
    assert.match(given.err, /truncated/);
  });
});
