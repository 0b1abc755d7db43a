/**
 * `facegate models check`: every manifest model present with its sha256.
 * `facegate models fetch [NAME…]`: downloads missing files from their upstream URL into
 * FACE_MODELS_DIR (or models/), verifying the sha256 before the file appears under its name.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CliIo } from '../../bin/facegate.ts';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { loadManifest, modelSearchDirs, repoRoot, resolveModelPath, type ModelEntry, type ModelLocation } from './models.ts';

export type ModelStatus = { name: string; ok: true; path: string } | { name: string; ok: false; missing: boolean; message: string };

function statusOf(entry: ModelEntry, location: ModelLocation): ModelStatus {
  try {
    return { name: entry.name, ok: true, path: resolveModelPath(entry.name, location) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { name: entry.name, ok: false, missing: /not found/.test(e.message), message: e.message };
  }
}

export function checkModels(location: ModelLocation, names?: string[]): ModelStatus[] {
  return loadManifest()
    .models.filter((m) => !names || names.includes(m.name))
    .map((m) => statusOf(m, location));
}

export type FetchOptions = {
  /** Where downloaded files go. */
  targetDir: string;
  /** Only these models (default: all). */
  names?: string[];
  /** Network access; the global fetch by default. */
  fetch?: typeof fetch;
};

/** Fetches what is missing; returns true when every asked-for model ends up present and intact. */
export async function fetchModels(location: ModelLocation, options: FetchOptions, io: CliIo): Promise<boolean> {
  const get = options.fetch ?? fetch;
  let allOk = true;
  for (const status of checkModels(location, options.names)) {
    const entry = loadManifest().models.find((m) => m.name === status.name)!;
    if (status.ok) {
      io.out(`present  ${status.name}`);
      continue;
    }
    if (!status.missing) {
      io.err(`altered  ${status.message}; delete it and fetch again`);
      allOk = false;
      continue;
    }
    if (!entry.url) {
      const from = entry.convertedFrom ? ` It was converted from ${entry.convertedFrom.source} (${entry.convertedFrom.how}).` : '';
      io.err(`missing  ${entry.name}: no upstream URL serves this file.${from} Copy it into ${options.targetDir}.`);
      allOk = false;
      continue;
    }
    try {
      const res = await get(entry.url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== entry.sha256) throw new Error(`sha256 ${sha}, manifest says ${entry.sha256}`);
      mkdirSync(options.targetDir, { recursive: true });
      const final = path.join(options.targetDir, entry.name);
      const partial = `${final}.partial-${process.pid}`;
      try {
        writeFileSync(partial, bytes);
        renameSync(partial, final);
      } finally {
        rmSync(partial, { force: true });
      }
      io.out(`fetched  ${entry.name} → ${final}`);
    } catch (e) {
      io.err(`failed   ${entry.name} from ${entry.url}: ${(e as Error).message} (offline? copy the file into ${options.targetDir})`);
      allOk = false;
    }
  }
  return allOk;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const [, command, ...names] = args;
  const faceModelsDir = loadConfig().faceModelsDir;
  const location: ModelLocation = { faceModelsDir };
  if (command === 'check') {
    const statuses = checkModels(location, names.length ? names : undefined);
    for (const s of statuses) {
      if (s.ok) io.out(`ok       ${s.name}  ${s.path}`);
      else io.err(`${s.missing ? 'missing' : 'altered'}  ${s.message}`);
    }
    io.out(`searched ${modelSearchDirs(location).join(', ')}`);
    return statuses.every((s) => s.ok) ? 0 : 1;
  }
  if (command === 'fetch') {
    const targetDir = path.resolve(faceModelsDir ?? path.join(repoRoot, 'models'));
    return (await fetchModels(location, { targetDir, names: names.length ? names : undefined }, io)) ? 0 : 1;
  }
  io.err('usage: facegate models check [NAME…] | fetch [NAME…]');
  return 2;
}
