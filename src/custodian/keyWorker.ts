/**
 * The custodian's secret-key thread (see keyThread.ts): makes key pairs and decrypts decisions in
 * its own SEAL heap, so no unsealed key ever sits in the main thread's WebAssembly memory. It
 * answers one message at a time: `create` → a compact secret and the serialized public key,
 * `decide` → decryptDecision's outcome. Every key byte it was given or made is wiped before the
 * answer goes (the secret it returns is moved to the caller, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { FacegateError, InputError } from '../errors.ts';
import { bfv, withBfv } from '../template/bfv.ts';
import { newCompactSecret, secretKeyOf } from './compactSecretKey.ts';
import { decryptDecision } from './decryptDecision.ts';

export type KeyWork = { op: 'create' } | { op: 'decide'; secret: Uint8Array; ciphertext: Uint8Array };
export type KeyJob = KeyWork & { id: number };
export type KeyAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { input: boolean; code?: string; message: string; status?: number } };

function createKey(): Promise<{ secret: Uint8Array; publicKey: Uint8Array }> {
  const secret = newCompactSecret();
  return withBfv((b) => {
    using secretKey = secretKeyOf(b, secret);
    using keygen = new b.seal.KeyGenerator(b.context, secretKey);
    using publicKey = keygen.createPublicKeySerializable();
    // The seeded public key is half the size; it loads as an ordinary PublicKey.
    return { secret, publicKey: publicKey.saveToArray(b.seal.ComprModeType.zstd) as Uint8Array };
  }).catch((e) => {
    secret.fill(0);
    throw e;
  });
}

async function run(job: KeyJob): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  if (job.op === 'create') {
    const made = await createKey();
    return { value: made, transfer: [made.secret.buffer as ArrayBuffer] };
  }
  try {
    return { value: await decryptDecision(job.secret, job.ciphertext), transfer: [] };
  } finally {
    job.secret.fill(0);
  }
}

const port = parentPort!;
// SEAL and the BFV context are ready before the thread says so: the first job pays nothing.
await bfv();
port.on('message', async (job: KeyJob) => {
  try {
    const { value, transfer } = await run(job);
    port.postMessage({ id: job.id, ok: true, value } satisfies KeyAnswer, transfer);
  } catch (e) {
    const error = e instanceof FacegateError ? { input: e instanceof InputError, code: e.code, message: e.message, status: e.status } : { input: false, message: String(e) };
    port.postMessage({ id: job.id, ok: false, error } satisfies KeyAnswer);
  }
});
port.postMessage('ready');
