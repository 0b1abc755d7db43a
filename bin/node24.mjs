#!/usr/bin/env node
// Runs its arguments with Node.js ≥ 24 (plain JavaScript, so any older node can start it): this
// node when it is new enough, otherwise Node 24 installed once from the npm registry into
// ~/.cache/facegate-node24. `--print-path` prints that node's path instead of running it.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

function node24() {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  const prefix = path.join(homedir(), '.cache', 'facegate-node24');
  const bin = path.join(prefix, 'node_modules', '.bin', 'node');
  if (!existsSync(bin)) {
    console.error(`facegate: Node.js ${process.versions.node} is too old; installing Node 24 from the npm registry into ${prefix}`);
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', 'node@24'], { stdio: ['ignore', 2, 2] }); // stdout stays clean for --print-path
  }
  return bin;
}

const args = process.argv.slice(2);
if (args[0] === '--print-path') {
  console.log(node24());
} else {
  const child = spawn(node24(), args, { stdio: 'inherit' });
  // Pass stop signals on (e.g. `docker stop` signals only this process), then exit as the child did.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15) : 1);
  });
}
