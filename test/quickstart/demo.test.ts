/**
 * `npm run demo` as a user runs it (issue 13): one command prints where to go and a demo PIN,
 * and signing in at the example RP with that PIN shows the signed-in user with acr/amr. Ctrl-C
 * (SIGINT to the process group, as a terminal sends it) exits 0 and releases DATA_DIR; a second
 * run finds the same client and user instead of adding new ones. It refuses NODE_ENV=production.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoConfig } from '../../src/demo.ts';
import { FormDriver } from '../support/browser-less.ts';
import { pinSignIn } from '../support/pinSignIn.ts';
import { embeddedEnv, ROOT, run, startServerProcess, type Server } from '../support/processes.ts';
import { freePort } from '../support/server.ts';

const root = mkdtempSync(path.join(tmpdir(), 'fg-demo-'));
const dataDir = path.join(root, 'data-demo');
let demo: Server | undefined;
after(async () => {
  await demo?.stop();
  rmSync(root, { recursive: true, force: true });
});

type Banner = { rpUrl: string; username: string; pin: string; issuer: string };

/** Waits for the demo's printed block and reads it. */
async function banner(server: Server, timeoutMs = 240_000): Promise<Banner> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = server.output();
    const block = /Open the example RP:\s+(\S+)\n\s+Username:\s+(\S+)\n\s+PIN:\s+(\d+)[^\n]*DEMO ONLY[^\n]*\n\s+Issuer:\s+(\S+)[\s\S]*camera and a passkey[\s\S]*Ctrl-C/.exec(out);
    if (block) return { rpUrl: block[1], username: block[2], pin: block[3], issuer: block[4] };
    if (server.child.exitCode !== null) throw new Error(`npm run demo exited (${server.child.exitCode}): ${out}`);
    if (Date.now() > deadline) throw new Error(`no demo block in: ${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Ctrl-C: SIGINT to the whole process group (npm, bin/node24.mjs, the demo). */
async function interrupt(server: Server): Promise<number | null> {
  const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
  process.kill(-server.child.pid!, 'SIGINT');
  return exited;
}

/** A PIN sign-in started from the RP's "Sign in" button; returns the RP's page afterwards. */
async function signInAtRp(b: Banner): Promise<string> {
  const rp = new FormDriver(b.rpUrl);
  const start = await rp.get('/login');
  assert.equal(start.status, 302);
  const authorization = new URL(start.location!);
  assert.equal(`${authorization.origin}${authorization.pathname}`, `${b.issuer}/auth`);
  const { callback } = await pinSignIn(new FormDriver(authorization.origin), authorization, `${b.rpUrl}/callback`, b.username, b.pin);
  const home = await rp.follow(await rp.get(callback.toString()));
  assert.equal(home.status, 200, home.html);
  return home.html;
}

const field = (html: string, id: string) => new RegExp(`<dd id="${id}">([^<]*)</dd>`).exec(html)?.[1];

test('npm run demo: one command, sign in at the example RP with the printed PIN; Ctrl-C exits 0; a second run reuses the data', { timeout: 600_000 }, async () => {
  // The shell's own facegate settings are not the demo's: it must not use them, nor let the
  // commands it runs over its admin socket use them.
  const elsewhere = path.join(root, 'shell-data-dir');
  const shell = { DATA_DIR: elsewhere, DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' };
  const env = embeddedEnv({ ...shell, DEMO_DATA_DIR: dataDir, PORT: String(await freePort()), DEMO_RP_PORT: String(await freePort()) });

  demo = startServerProcess(env, ['npm', 'run', 'demo']);
  const first = await banner(demo);
  assert.equal(first.username, 'demo');
  assert.match(first.rpUrl, /^http:\/\/localhost:\d+$/);
  assert.equal(first.issuer, `http://localhost:${env.PORT}/t/default`);

  const page = await signInAtRp(first);
  assert.match(page, /<h1>Signed in<\/h1>/);
  assert.equal(field(page, 'acr'), 'urn:facegate:loa:1');
  assert.equal(field(page, 'amr'), 'pin');
  const subject = field(page, 'subject');
  assert.ok(subject);
  // "Login with Face" asks the provider for loa 2.
  const face = await new FormDriver(first.rpUrl).get('/login?face=1');
  assert.equal(new URL(face.location!).searchParams.get('acr_values'), 'urn:facegate:loa:2');

  assert.equal(await interrupt(demo), 0, demo.output());
  assert.equal(existsSync(path.join(dataDir, 'pglite.lock')), false, 'Ctrl-C released the DATA_DIR lock');
  assert.equal(existsSync(path.join(dataDir, 'admin.sock')), false);

  demo = startServerProcess(env, ['npm', 'run', 'demo']);
  const second = await banner(demo);
  assert.deepEqual(second, first, 'same RP, user and PIN');
  // Commands go to the running demo over its admin socket: one client, one user.
  const facegate = (args: string[]) => run(process.execPath, ['bin/facegate.ts', ...args], embeddedEnv({ DATA_DIR: dataDir }));
  const clients = await facegate(['client', 'list', '--tenant', 'default']);
  assert.equal(clients.code, 0, clients.stderr);
  assert.deepEqual(clients.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['example-rp']);
  const users = await facegate(['user', 'list', '--tenant', 'default']);
  assert.equal(users.code, 0, users.stderr);
  assert.equal(users.stdout.trim().split('\n').length, 1, users.stdout);
  assert.match(users.stdout, /\bdemo\b/);

  assert.equal(existsSync(elsewhere), false, 'the shell\'s DATA_DIR was not touched');

  const again = await signInAtRp(second);
  assert.equal(field(again, 'subject'), subject, 'the same user');
  assert.equal(await interrupt(demo), 0, demo.output());
  assert.equal(existsSync(path.join(dataDir, 'pglite.lock')), false);

  // The client was made for that RP port: another one is refused in one line, and the lock released.
  const moved = await run('npm', ['run', '--silent', 'demo'], { ...env, DEMO_RP_PORT: String(await freePort()) });
  assert.equal(moved.code, 1, moved.stdout + moved.stderr);
  assert.match(moved.stderr, /^facegate demo: client "example-rp" .* redirects to http:\/\/localhost:\d+\/callback, not .*DEMO_RP_PORT/m);
  assert.equal(existsSync(path.join(dataDir, 'pglite.lock')), false);
});

test('the README gives the command this file runs, and the RP URL the demo prints by default', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /```sh\nnpm run demo +# [^\n]*http:\/\/localhost:4000\n```/);
  assert.equal(demoConfig({}).rpPort, 4000);
});

test('npm run demo refuses NODE_ENV=production and writes nothing', { timeout: 60_000 }, async () => {
  const dir = path.join(root, 'production');
  const refused = await run('npm', ['run', '--silent', 'demo'], embeddedEnv({ DEMO_DATA_DIR: dir, NODE_ENV: 'production' }));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^facegate demo: .*NODE_ENV=production$/m);
  assert.equal(existsSync(dir), false);
});

test('the demo\'s configuration: embedded and on localhost whatever the shell sets', () => {
  const { env, config, rpPort } = demoConfig({
    PATH: '/usr/bin', DATA_DIR: '/srv/facegate', DATABASE_URL: 'postgres://db/prod', REDIS_URL: 'redis://cache', PUBLIC_URL: 'https://id.example.com',
    DEFAULT_TENANT: 'acme', COOKIE_KEYS: 'k'.repeat(40), WORKERS: '4', PORT: '3100',
  });
  assert.equal(env.PATH, '/usr/bin');
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PUBLIC_URL', 'DEFAULT_TENANT', 'COOKIE_KEYS', 'WORKERS']) assert.equal(env[name], undefined, name);
  assert.equal(env.DATA_DIR, path.resolve('data-demo'));
  assert.deepEqual(
    { databaseUrl: config.databaseUrl, redisUrl: config.redisUrl, publicUrl: config.publicUrl, dataDir: config.dataDir, tenant: config.defaultTenant, rpPort },
    { databaseUrl: undefined, redisUrl: undefined, publicUrl: 'http://localhost:3100', dataDir: path.resolve('data-demo'), tenant: 'default', rpPort: 4000 },
  );
  assert.throws(() => demoConfig({ PORT: '4000' }), /PORT and DEMO_RP_PORT are both 4000/);
  assert.throws(() => demoConfig({ DEMO_RP_PORT: 'x' }), /DEMO_RP_PORT must be a port number/);
});
