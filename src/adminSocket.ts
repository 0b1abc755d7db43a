/**
 * facegate commands while the embedded server runs. PGlite can be open in one process only, so a
 * command run from a shell does not open the database the server holds: it sends its argv to the
 * server over a Unix socket in DATA_DIR, and the server runs the same command on its own open
 * database (with its own configuration and data key), streaming output lines back and asking
 * for a line of standard input when the command reads one (`user set-pin`).
 *
 * Only the OS user running the server can use it: the socket is mode 0600 and each request
 * carries the token the server writes at start to `<DATA_DIR>/admin-token` (mode 0600), which
 * also covers the instant between listen() and chmod(). Both live beside the database files,
 * which that user can read anyway. Protocol: one JSON object per line. Client: `{token, argv}`,
 * then `{line}` when asked. Server: `{out}` / `{err}` lines, `{readLine: true}`, then `{exit}`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CliIo } from '../bin/facegate.ts';
import { lockHolder } from './store/dataDirLock.ts';
import { embeddedDatabaseDir, lockFileOf } from './store/embeddedHandle.ts';

export const ADMIN_SOCKET = 'admin.sock';
export const ADMIN_TOKEN = 'admin-token';
/** Longer lines end the connection: a request is an argv, a reply one line of input. */
const MAX_LINE = 64 * 1024;
/** Unix socket paths are limited to ~108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 100;
/** How long a command waits for a starting server's socket, or for another command to finish. */
const WAIT_FOR_HOLDER_MS = 60_000;

export type RunCommand = (argv: string[], io: CliIo) => Promise<number>;
export type AdminSocket = { close(): Promise<void> };

type Message = { token?: unknown; argv?: unknown; line?: unknown; out?: unknown; err?: unknown; readLine?: unknown; exit?: unknown };

/** Calls `onMessage` with each JSON line read from `socket`; ends the socket on garbage. */
function readMessages(socket: Socket, onMessage: (m: Message) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        socket.destroy();
        return;
      }
      if (message === null || typeof message !== 'object') {
        socket.destroy();
        return;
      }
      onMessage(message as Message);
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
}

const send = (socket: Socket, message: Message) => {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
};

/** `user set-pin` for the log; never the rest of argv (a PIN, a code), nor a word that is not a command's name. */
const commandName = (argv: string[]) => argv.slice(0, 2).map((a) => (/^[a-z][a-z-]{0,31}$/.test(a) ? a : '…')).join(' ');

const sameToken = (given: unknown, token: Buffer) =>
  typeof given === 'string' && Buffer.byteLength(given) === token.length && timingSafeEqual(Buffer.from(given), token);

/**
 * Serves facegate commands on `<dataDir>/admin.sock` with `run` (the CLI's dispatcher). Returns
 * undefined, with a warning, where the socket path is too long for the OS: commands then find
 * the database locked and say so.
 */
export async function serveAdminCommands(dataDir: string, run: RunCommand, logger: Logger): Promise<AdminSocket | undefined> {
  const socketPath = path.join(dataDir, ADMIN_SOCKET);
  const tokenPath = path.join(dataDir, ADMIN_TOKEN);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    logger.warn({ socketPath }, 'DATA_DIR is too long a path for the admin socket: stop the server to run facegate commands');
    return undefined;
  }
  // This process holds the database lock: a socket or token left here is from a previous run.
  for (const file of [socketPath, tokenPath]) rmSync(file, { force: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(tokenPath, `${token}\n`, { flag: 'wx', mode: 0o600 });
  const tokenBytes = Buffer.from(token);
  const connections = new Set<Socket>();

  const server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let started = false;
    const pendingLines: ((line: string) => void)[] = [];
    readMessages(socket, (message) => {
      if (!started) {
        started = true;
        const argv = message.argv;
        if (!sameToken(message.token, tokenBytes) || !Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
          send(socket, { err: 'admin socket: refused (token or request invalid)' });
          send(socket, { exit: 1 });
          socket.end();
          return;
        }
        void runOne(socket, argv as string[], pendingLines);
        return;
      }
      if (typeof message.line === 'string') pendingLines.shift()?.(message.line);
    });
  });

  async function runOne(socket: Socket, argv: string[], pendingLines: ((line: string) => void)[]) {
    logger.info({ command: commandName(argv) }, 'facegate command over the admin socket');
    const io: CliIo = {
      out: (line) => send(socket, { out: line }),
      err: (line) => send(socket, { err: line }),
      readLine: () =>
        new Promise<string>((resolve, reject) => {
          if (socket.destroyed) return reject(new Error('the command\'s caller went away'));
          pendingLines.push(resolve);
          socket.once('close', () => reject(new Error('the command\'s caller went away')));
          send(socket, { readLine: true });
        }),
    };
    let exit: number;
    try {
      exit = await run(argv, io);
    } catch (err) {
      logger.error({ err, command: commandName(argv) }, 'facegate command failed');
      io.err('internal error: see the server log');
      exit = 1;
    }
    send(socket, { exit });
    socket.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    async close() {
      for (const socket of connections) socket.destroy();
      await new Promise((r) => server.close(r));
      for (const file of [socketPath, tokenPath]) rmSync(file, { force: true });
    },
  };
}

/** Connects to `socketPath`, or undefined when no server listens there (yet). */
function connect(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? resolve(undefined) : reject(e));
    socket.once('error', onError);
  });
}

/**
 * Sends `argv` to the server that holds the embedded database of `dataDir`, and relays its
 * output to `io`. Returns the command's exit code, or undefined when no server holds the
 * database (the caller then runs the command itself). Waits, up to a minute, for a server
 * that is still starting and for another command to finish.
 */
export async function sendToRunningServer(dataDir: string, argv: string[], io: CliIo & { readLine: () => Promise<string> }): Promise<number | undefined> {
  const lockFile = lockFileOf(embeddedDatabaseDir(dataDir));
  const socketPath = path.join(dataDir, ADMIN_SOCKET);
  const deadline = Date.now() + WAIT_FOR_HOLDER_MS;
  let told = false;
  let socket: Socket | undefined;
  for (;;) {
    const holder = lockHolder(lockFile);
    if (!holder) return undefined;
    if (holder.kind === 'server') socket = await connect(socketPath);
    if (socket) break;
    // Past the deadline the caller opens the database itself and reports who holds it.
    if (Date.now() > deadline) return undefined;
    if (!told) io.err(holder.kind === 'server' ? `waiting for the facegate server (pid ${holder.pid}) to finish starting…` : `waiting for another facegate command (pid ${holder.pid}) to finish…`);
    told = true;
    await sleep(250);
  }
  let token: string;
  try {
    token = readFileSync(path.join(dataDir, ADMIN_TOKEN), 'utf8').trim();
  } catch {
    socket.destroy();
    return undefined;
  }
  const connected = socket;
  return new Promise<number>((resolve) => {
    let exit: number | undefined;
    readMessages(connected, (message) => {
      if (typeof message.out === 'string') io.out(message.out);
      else if (typeof message.err === 'string') io.err(message.err);
      else if (message.readLine === true) void io.readLine().then((line) => send(connected, { line }));
      else if (typeof message.exit === 'number') exit = message.exit;
    });
    connected.on('error', () => {});
    connected.on('close', () => {
      if (exit === undefined) io.err('the facegate server closed the connection before the command finished');
      resolve(exit ?? 1);
    });
    send(connected, { token, argv });
  });
}
