/**
 * The custodian as its own process (`src/custodian/server.ts`, what `npm run custodian` starts),
 * with only PATH and the given environment: its URL comes from the first line it prints, and it
 * is stopped when `use` is done, passed or failed.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export async function withCustodianService<T>(env: Record<string, string>, scheme: 'http' | 'https', use: (url: string) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, ['src/custodian/server.ts'], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    return await use(new RegExp(`${scheme}://127\\.0\\.0\\.1:\\d+`).exec(line.toString())![0]);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}
