/**
 * `facegate custodian certs`: the files mutual TLS needs, keys readable by their owner only, the
 * variables each side sets, and no overwriting of an existing CA (that would cut off every
 * certificate it issued).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../bin/facegate.ts';
import { DEV_CERT_FILES } from '../../src/custodian/devCerts.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'facegate-certs-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('makes a CA, the custodian’s certificate for the given names and the provider’s, and prints both sides’ variables', async () => {
  const out = path.join(dir, 'certs');
  const made = await cli(['custodian', 'certs', '--out', out, '--names', 'custodian.internal,10.0.0.7']);
  assert.equal(made.code, 0, made.err);
  for (const file of DEV_CERT_FILES) assert.ok(statSync(path.join(out, file)).isFile(), file);
  for (const file of DEV_CERT_FILES.filter((f) => f.endsWith('.key'))) assert.equal(statSync(path.join(out, file)).mode & 0o077, 0, `${file} is owner-only`);
  const ca = new X509Certificate(readFileSync(path.join(out, 'ca.crt')));
  const server = new X509Certificate(readFileSync(path.join(out, 'custodian.crt')));
  const client = new X509Certificate(readFileSync(path.join(out, 'provider.crt')));
  assert.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey), 'both signed by the CA');
  assert.equal(server.subjectAltName, 'DNS:custodian.internal, IP Address:10.0.0.7');
  assert.ok(server.checkHost('custodian.internal') && !client.checkHost('custodian.internal'));
  assert.match(made.out, new RegExp(`CUSTODIAN_TLS_KEY=${path.join(out, 'custodian.key')}`));
  assert.match(made.out, /CUSTODIAN_URL=https:\/\/custodian\.internal:3100 CUSTODIAN_CLIENT_CERT=\S+provider\.crt/);
  const before = readFileSync(path.join(out, 'ca.key'));
  const again = await cli(['custodian', 'certs', '--out', out]);
  assert.equal(again.code, 1);
  assert.match(again.err, /^error certs\.exists: /);
  assert.deepEqual(readFileSync(path.join(out, 'ca.key')), before, 'the CA is kept');
});

test('bad arguments are refused with the usage', async () => {
  assert.match((await cli(['custodian', 'certs'])).err, /--out is required/);
  assert.match((await cli(['custodian', 'certs', '--out', path.join(dir, 'x'), '--names', 'bad name'])).err, /certs\.bad_name/);
  assert.equal((await cli(['custodian', 'nope'])).code, 2);
});
