/**
 * The README's embedded quick start, as written: the commands of its code block, read from
 * README.md (so the two cannot drift), run one after the other without waiting, as a pasted
 * block runs — `npm start &` and then the CLI at once. Only the placeholders the README names
 * are filled in: the PIN it says is read from stdin, the TOTP code "from the app". Then an RP
 * signs in with openid-client at the issuer the README gives, with the printed client.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embeddedEnv, ROOT, run, startServerProcess, type Server } from '../support/processes.ts';
import { freePort } from '../support/server.ts';
import { generate as totpCode } from '../support/totp.ts';
import { signInWithPin } from '../support/rpSignIn.ts';

const HEADING = '## Register a client and sign in (embedded quick start)';
const PIN = '482913';

/** The commands of the first ```sh block under HEADING, continuation lines joined, with their comments. */
function quickStartCommands(): { command: string; comment: string }[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(HEADING));
  assert.ok(section.startsWith(HEADING), 'the README has the quick-start section');
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the quick-start section has a sh block');
  return block[1]
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const hash = line.search(/\s#\s/);
      return hash === -1 ? { command: line.trim(), comment: '' } : { command: line.slice(0, hash).trim(), comment: line.slice(hash + 2).trim() };
    });
}

let server: Server | undefined;
const dataDir = mkdtempSync(path.join(tmpdir(), 'fg-readme-'));
after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the README quick start, run as written, ends in a working sign-in', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const env = embeddedEnv({ DATA_DIR: dataDir, PORT: String(port) });
  const commands = quickStartCommands();
  assert.equal(commands[0].command, 'npm start &', 'the block starts the server in the background');

  const filled: string[] = [];
  let client: { id: string; secret: string } | undefined;
  let totpSecret: string | undefined;
  for (const { command, comment } of commands) {
    if (command === 'npm start &') {
      server = startServerProcess(env, ['npm', 'start']);
      continue;
    }
    assert.match(command, /^node bin\/facegate\.ts /, `only facegate commands follow: ${command}`);
    let line = command;
    let stdin = '';
    if (/from stdin/.test(comment)) {
      stdin = `${PIN}\n`;
      filled.push('PIN on stdin');
    }
    if (/--code 123456/.test(line) && /code from the app/.test(comment)) {
      assert.ok(totpSecret, 'enroll-totp printed the secret before confirm-totp');
      line = line.replace('--code 123456', `--code ${await totpCode(totpSecret)}`);
      filled.push('TOTP code');
    }
    const result = await run('sh', ['-c', line], env, stdin);
    assert.equal(result.code, 0, `${command}\n${result.stdout}\n${result.stderr}`);
    const id = /^client_id: (\S+)$/m.exec(result.stdout);
    const secret = /^client_secret: (\S+)$/m.exec(result.stdout);
    if (id && secret) client = { id: id[1], secret: secret[1] };
    totpSecret = /enter the secret (\S+)/.exec(result.stdout)?.[1] ?? totpSecret;
  }
  assert.deepEqual(filled, ['PIN on stdin', 'TOTP code'], 'the README\'s placeholders are the ones this test fills in');
  assert.ok(client, 'client create printed a client_id and a secret');

  // "Point your RP at the issuer http://localhost:3000/t/default": here PORT is a free port.
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /Point your RP at the issuer `http:\/\/localhost:3000\/t\/default`/);
  await server!.listening();
  const redirect = /--redirect-uri (\S+)/.exec(commands.find((c) => c.command.includes('client create'))!.command)![1];
  const claims = await signInWithPin(`http://localhost:${port}/t/default`, client, redirect, { username: 'alice', pin: PIN });
  assert.equal(claims.iss, `http://localhost:${port}/t/default`);
  assert.equal(claims.aud, client.id);
  assert.deepEqual(claims.amr, ['pin']);
});
