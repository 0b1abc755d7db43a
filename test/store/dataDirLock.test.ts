/**
 * The embedded database is open in one process at a time: a second process opening the same
 * DATA_DIR is refused with one line saying what to do (before, it opened its own copy and one
 * of the two lost its writes), and a lock left by a dead process does not block the next one.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embeddedEnv, ROOT, run, startServerProcess } from '../support/processes.ts';
import { freePort } from '../support/server.ts';
import { acquireDataDirLock, DataDirInUseError, lockHolder } from '../../src/store/dataDirLock.ts';
import { openDatabase } from '../../src/store/db.ts';
import { ephemeralDataKey } from '../../src/store/dataKey.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fg-lock-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** A process that opens the embedded database as a facegate command and keeps it open until stdin closes. */
const HOLDER = `
import { loadConfig } from './src/config.ts';
import { openConfiguredDatabase } from './src/store/db.ts';
const db = openConfiguredDatabase(loadConfig());
await db.transaction((sql) => sql.query('SELECT 1'));
console.log('open');
process.stdin.resume();
process.stdin.on('end', async () => { await db.close(); });
`;

test('a second server on the same DATA_DIR exits with one line naming the first', async () => {
  const env = embeddedEnv({ DATA_DIR: dataDir, PORT: String(await freePort()) });
  const first = startServerProcess(env);
  try {
    await first.listening();
    // Killed if it serves instead (as it did before the lock).
    const second = await run(process.execPath, ['src/main.ts'], { ...env, PORT: String(await freePort()) }, '', 40_000);
    assert.equal(second.code, 1);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.match(lines[0], new RegExp(`^facegate: the embedded database .*pglite is open in a facegate server \\(pid ${first.child.pid}\\); .*stop that server first, or use another DATA_DIR$`));
    assert.equal(second.stdout, '');
  } finally {
    await first.stop();
  }
});

test('a second opener of a database held by a command is refused; a dead holder\'s lock is taken over', async () => {
  const env = embeddedEnv({ DATA_DIR: dataDir });
  const holder = spawn(process.execPath, ['--input-type=module', '-e', HOLDER], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes('open') && resolve()));
  const lockFile = path.join(dataDir, 'pglite.lock');
  assert.deepEqual(JSON.parse(readFileSync(lockFile, 'utf8')), { pid: holder.pid, kind: 'command' });

  const second = await run(process.execPath, ['--input-type=module', '-e', HOLDER], env);
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, new RegExp(`the embedded database .*pglite is open in another facegate command \\(pid ${holder.pid}\\); .*try again when it has finished`));

  // Killed without closing: the lock names a pid that is gone.
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  assert.deepEqual(JSON.parse(readFileSync(lockFile, 'utf8')).pid, holder.pid);
  const list = await run(process.execPath, ['bin/facegate.ts', 'tenant', 'list'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^default\tDefault tenant/m);
});

test('a lock file that is not a lock is someone starting while fresh, debris when old', () => {
  const file = path.join(dataDir, 'other.lock');
  writeFileSync(file, '');
  assert.throws(() => acquireDataDirLock(file, 'other', 'command'), (e: Error) => e instanceof DataDirInUseError && /just starting/.test(e.message));
  utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const release = acquireDataDirLock(file, 'other', 'command');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { pid: process.pid, kind: 'command' });
  release();
  assert.equal(lockHolder(file), undefined);
});

test('within a process, a second open of the directory shares the first handle, with the same data key only', async () => {
  const dir = path.join(dataDir, 'shared');
  const dataKey = ephemeralDataKey();
  const first = openDatabase({ dataDir: dir, dataKey });
  const second = openDatabase({ dataDir: dir, dataKey });
  assert.throws(() => openDatabase({ dataDir: dir, dataKey: ephemeralDataKey() }), /already open in this process with another data key/);
  await first.exec('CREATE TABLE shared_probe (n int); INSERT INTO shared_probe VALUES (1)');
  await first.close();
  assert.ok(existsSync(`${dir}.lock`), 'still locked while the second holder has it');
  assert.deepEqual((await second.asOwner((sql) => sql.query('SELECT n FROM shared_probe'))).rows, [{ n: 1 }]);
  await second.close();
  assert.equal(existsSync(`${dir}.lock`), false);
});
