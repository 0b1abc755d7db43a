/**
 * facegate commands while the embedded server runs (issue 13): before, they opened their own
 * copy of the server's PGlite, printed success, and the server never saw the client (its /auth
 * answered 400) while a restart lost the writes. Now they run in the server, over its admin
 * socket: the server signs a user in with the client and user just made, and both survive a
 * restart. The socket takes commands from its owner only: a wrong token is refused.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embeddedEnv, run, startServerProcess, type Server } from '../support/processes.ts';
import { freePort } from '../support/server.ts';
import { signInWithPin } from '../support/rpSignIn.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fg-cliserver-'));
const REDIRECT = 'http://localhost:8080/callback';
let server: Server | undefined;
after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const facegate = (env: NodeJS.ProcessEnv, args: string[], stdin = '') => run(process.execPath, ['bin/facegate.ts', ...args], env, stdin);

test('commands run in the running embedded server, sign-in works at once, and all of it survives a restart', { timeout: 150_000 }, async () => {
  const port = await freePort();
  const env = embeddedEnv({ DATA_DIR: dataDir, PORT: String(port) });
  const issuer = `http://localhost:${port}/t/default`;

  let started = startServerProcess(env);
  server = started;
  await started.listening();
  assert.match(started.output(), /Next steps, in another shell:[\s\S]*client create --tenant default[\s\S]*user create[\s\S]*user set-pin[\s\S]*issuer http:\/\/localhost:\d+\/t\/default/);

  const created = await facegate(env, ['client', 'create', '--tenant', 'default', '--name', 'My App', '--redirect-uri', REDIRECT]);
  assert.equal(created.code, 0, created.stderr);
  const client = { id: /^client_id: (\S+)$/m.exec(created.stdout)![1], secret: /^client_secret: (\S+)$/m.exec(created.stdout)![1] };
  assert.equal((await facegate(env, ['user', 'create', '--tenant', 'default', '--username', 'alice'])).code, 0);
  const pin = await facegate(env, ['user', 'set-pin', '--tenant', 'default', '--username', 'alice'], '482913\n');
  assert.equal(pin.code, 0, pin.stderr);
  assert.match(pin.stdout, /^PIN set for alice$/m);
  // The server ran them (never the PIN in its log).
  assert.equal(started.output().match(/facegate command over the admin socket/g)?.length, 3);
  assert.doesNotMatch(started.output(), /482913/);

  // An error inside the server comes back as the usual one line and exit code.
  const duplicate = await facegate(env, ['user', 'create', '--tenant', 'default', '--username', 'alice']);
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr.trim(), /^error user\.\S+: .*alice/);

  const claims = await signInWithPin(issuer, client, REDIRECT, { username: 'alice', pin: '482913' });
  assert.equal(claims.aud, client.id);

  // Only the owner: the socket and token are 0600, and a request without the token is refused.
  assert.equal(statSync(path.join(dataDir, 'admin.sock')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(dataDir, 'admin-token')).mode & 0o777, 0o600);
  const refused = await new Promise<string>((resolve) => {
    const socket = createConnection(path.join(dataDir, 'admin.sock'));
    let reply = '';
    socket.on('data', (d) => (reply += d));
    socket.on('close', () => resolve(reply));
    socket.write(`${JSON.stringify({ token: 'x'.repeat(43), argv: ['tenant', 'create', '--id', 'evil', '--name', 'Evil'] })}\n`);
  });
  assert.match(refused, /"err":"admin socket: refused[^"]*"[\s\S]*"exit":1/);

  await started.stop();
  started = startServerProcess(env);
  server = started;
  await started.listening();
  assert.doesNotMatch(started.output(), /Next steps/, 'not once the tenant has a client');
  const tenants = await facegate(env, ['tenant', 'list']);
  assert.doesNotMatch(tenants.stdout, /evil/);
  const clients = await facegate(env, ['client', 'list', '--tenant', 'default']);
  assert.match(clients.stdout, new RegExp(`^${client.id}\\tconfidential\\tMy App`, 'm'));
  const again = await signInWithPin(issuer, client, REDIRECT, { username: 'alice', pin: '482913' });
  assert.equal(again.sub, claims.sub);
});
