/**
 * A private CA and the two certificates mutual TLS between provider and custodian needs, made
 * with the `openssl` CLI (node:crypto makes keys but not certificates): the custodian's server
 * certificate for its names (extendedKeyUsage serverAuth) and the provider's client certificate
 * (clientAuth). OpenSSL checks the usage on each side, so neither certificate works in the other's
 * role. For development and docker-compose; a deployment with its own PKI issues the same shapes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../errors.ts';

const run = promisify(execFile);

/** A year: development certificates are made again, not renewed. */
const DAYS = '365';

/** The files written into the output directory. ca.key signs only; no service needs it. */
export const DEV_CERT_FILES = ['ca.crt', 'ca.key', 'custodian.crt', 'custodian.key', 'provider.crt', 'provider.key'] as const;

export type DevCerts = Record<'ca' | 'caKey' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>;

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new InputError('certs.no_openssl', 'the openssl command is needed to make certificates');
    throw new InputError('certs.openssl_failed', `openssl ${args[0]} failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`);
  }
}

// P-256: TLS 1.3's mandatory curve, and small keys.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Signs a fresh key pair's certificate for `subject` with the CA, with these extensions. */
async function issue(work: string, ca: { cert: string; key: string }, out: { cert: string; key: string }, subject: string, extensions: string[]): Promise<void> {
  const csr = path.join(work, `${path.basename(out.cert)}.csr`);
  const ext = path.join(work, `${path.basename(out.cert)}.ext`);
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  await openssl(['req', '-new', ...NEW_KEY, '-keyout', out.key, '-subj', subject, '-out', csr]);
  // A random serial (no ca.srl file beside the CA).
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', DAYS, '-extfile', ext, '-out', out.cert]);
}

/**
 * Writes a new CA, the custodian's certificate for `serverNames` (host names or IP addresses the
 * provider's CUSTODIAN_URL uses) and the provider's certificate into `outDir`. Refuses to
 * overwrite: replacing a CA would cut off every certificate it issued. Keys are mode 0600.
 */
export async function makeDevCerts(outDir: string, serverNames: string[]): Promise<DevCerts> {
  if (serverNames.length === 0 || serverNames.some((n) => !/^[A-Za-z0-9.:-]{1,253}$/.test(n))) {
    throw new InputError('certs.bad_name', 'server names must be host names or IP addresses');
  }
  const files: DevCerts = {
    ca: path.join(outDir, 'ca.crt'),
    caKey: path.join(outDir, 'ca.key'),
    serverCert: path.join(outDir, 'custodian.crt'),
    serverKey: path.join(outDir, 'custodian.key'),
    clientCert: path.join(outDir, 'provider.crt'),
    clientKey: path.join(outDir, 'provider.key'),
  };
  const existing = Object.values(files).filter((f) => existsSync(f));
  if (existing.length) throw new InputError('certs.exists', `${existing.join(', ')} already exist: choose another --out or remove them`);
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'facegate-certs-'));
  try {
    await openssl(['req', '-x509', ...NEW_KEY, '-keyout', files.caKey, '-out', files.ca, '-days', DAYS, '-subj', '/CN=facegate custodian CA',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const ca = { cert: files.ca, key: files.caKey };
    const leaf = (usage: string) => ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${usage}`];
    const san = serverNames.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    await issue(work, ca, { cert: files.serverCert, key: files.serverKey }, `/CN=${serverNames[0]}`, [...leaf('serverAuth'), `subjectAltName=${san}`]);
    await issue(work, ca, { cert: files.clientCert, key: files.clientKey }, '/CN=facegate-provider', leaf('clientAuth'));
    for (const key of [files.caKey, files.serverKey, files.clientKey]) chmodSync(key, 0o600);
    return files;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
