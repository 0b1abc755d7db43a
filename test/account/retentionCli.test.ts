/** `facegate retention set|show|run` and `facegate admin create-client` as an operator runs it (Postgres when DATABASE_URL is set, else PGlite in a temporary directory). */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../src/account/retentionCli.ts';
import { main } from '../../bin/facegate.ts';
import { run as runAdmin } from '../../src/admin/cli.ts';
import { createTenant } from '../../src/account/tenants.ts';
import { loadConfig } from '../../src/config.ts';
import { openConfiguredDatabase } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { freshDatabase, type TestDatabase } from '../support/services.ts';

let pg: TestDatabase | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'fg-retention-cli-'));
let env: Record<string, string | undefined>;

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(['retention', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

before(async () => {
  pg = process.env.DATABASE_URL ? await freshDatabase() : undefined;
  env = { DATABASE_URL: pg?.url, DATA_DIR: dir, FACEGATE_DATA_KEY: `k1:${randomBytes(32).toString('base64')}`, FACEGATE_KEK: `k1:${randomBytes(32).toString('base64')}` };
  const db = openConfiguredDatabase(loadConfig(env));
  try {
    await migrate(db);
    await createTenant(db, { id: 'acme', name: 'Acme' }, 'test');
  } finally {
    await db.close();
  }
});
after(async () => {
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('shows the defaults, sets a tenant policy, runs, and refuses bad days', async () => {
  assert.match((await cli('show', '--tenant', 'acme')).out, /after 1095 days unused; audit kept 1095 days/);
  assert.match((await cli('set', '--tenant', 'acme', '--face-unused-days', '365')).out, /after 365 days unused; audit kept 1095 days/);
  const ran = await cli('run', '--tenant', 'acme');
  assert.equal(ran.code, 0, ran.err);
  assert.match(ran.out, /^acme: 0 unused face templates deleted, 0 expired OIDC rows purged, 0 audit rows pruned$/);
  await assert.rejects(cli('set', '--tenant', 'acme', '--audit-days', '7'), { code: 'retention.invalid_days' });
  await assert.rejects(cli('set', '--tenant', 'acme', '--audit-days', 'soon'), { code: 'retention.invalid_days' });
  assert.equal((await cli('purge')).code, 2);
  const usage: string[] = [];
  assert.equal(await main([], { out: () => {}, err: (l) => usage.push(l) }), 2);
  assert.ok(usage.some((l) => l.includes('retention')), 'listed in facegate usage');
  const out: string[] = [];
  assert.equal(await runAdmin(['admin', 'create-client', '--tenant', 'acme', '--name', 'ops'], { out: (l) => out.push(l), err: () => {} }, env), 0);
  assert.match(out.join('\n'), /admin client admin-[A-Za-z0-9_-]+; secret \(shown once\)/);
});
