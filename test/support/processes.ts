/**
 * The embedded quick start as a user runs it: `npm start` and `node bin/facegate.ts …` as real
 * processes on one DATA_DIR, without DATABASE_URL or REDIS_URL (PGlite and the in-process store).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The environment of an embedded run: this process's, minus the test suite's Postgres and Redis. */
export function embeddedEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'REDIS_URL', 'NODE_ENV', 'FACEGATE_DATA_KEY', 'COOKIE_KEYS', 'PUBLIC_URL', 'DEFAULT_TENANT']) {
    if (!(name in env)) delete base[name];
  }
  return base;
}

export type Finished = { code: number | null; stdout: string; stderr: string };

/** Runs `command args` in the repository, feeding `stdin`, and waits for it to exit (killed after `timeoutMs`). */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, stdin = '', timeoutMs = 90_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export type Server = { child: ChildProcess; output: () => string; listening(): Promise<void>; stop(): Promise<void> };

/**
 * Starts a server (`node src/main.ts` unless `command` says otherwise, e.g. the README's
 * `npm start`) in its own process group and returns at once; `listening()` waits for it.
 */
export function startServerProcess(env: NodeJS.ProcessEnv, command: [string, ...string[]] = [process.execPath, 'src/main.ts']): Server {
  const child = spawn(command[0], command.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => output,
    listening: () =>
      new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (output.includes('"msg":"facegate listening"')) {
            clearInterval(check);
            resolve();
          } else if (child.exitCode !== null) {
            clearInterval(check);
            reject(new Error(`the server exited (${child.exitCode}): ${output}`));
          }
        }, 100);
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // The group: `npm start` runs the server as a grandchild.
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
    },
  };
}
