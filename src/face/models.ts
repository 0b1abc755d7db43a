/**
 * Model files: the manifest (models/manifest.json), where a file is found, its sha256 check, and
 * one cached onnxruntime session per file and process. A missing or altered file is a ConfigError
 * naming the file and every place looked at, so a bad deployment fails at startup, not mid-login.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';

export type ModelRole = 'detector' | 'recognizer' | 'liveness';

export type ModelEntry = {
  name: string;
  role: ModelRole;
  sha256: string;
  /** Upstream raw URL at a fixed commit; null for files converted here (see convertedFrom). */
  url: string | null;
  convertedFrom?: { source: string; sha256: string; how: string };
  license: string;
  /** Input tensor, layout, colour order, scaling, crop and output, as the upstream code does it. */
  input: Record<string, unknown>;
};

export type Manifest = {
  defaults: { detector: string; recognizer: string; liveness: string };
  /** Liveness ensembles by name: the model files whose P(live) are averaged. */
  liveness: Record<string, string[]>;
  models: ModelEntry[];
};

export const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const manifestPath = path.join(repoRoot, 'models', 'manifest.json');

let manifestCache: Manifest | undefined;

export function loadManifest(): Manifest {
  manifestCache ??= JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  return manifestCache;
}

export function modelEntry(name: string): ModelEntry {
  const entry = loadManifest().models.find((m) => m.name === name);
  if (!entry) throw new ConfigError(`model "${name}" is not listed in ${manifestPath}`);
  return entry;
}

export type ModelLocation = {
  /** Directory searched first (config FACE_MODELS_DIR); undefined → read from the config. */
  faceModelsDir?: string;
  /** Replaces the whole search path (tools and tests that must not see the default folders). */
  searchDirs?: string[];
};

/** Directories searched, in order: FACE_MODELS_DIR, <repo>/models, <repo>/../shared/models. */
export function modelSearchDirs(location: ModelLocation = {}): string[] {
  if (location.searchDirs) return location.searchDirs.map((d) => path.resolve(d));
  const first = 'faceModelsDir' in location ? location.faceModelsDir : loadConfig().faceModelsDir;
  const dirs = [path.join(repoRoot, 'models'), path.join(repoRoot, '..', 'shared', 'models')];
  return first ? [path.resolve(first), ...dirs] : dirs;
}

export function sha256OfFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Verified files: path → "size:mtime" at verification, so a file replaced in place is checked again. */
const verified = new Map<string, string>();

/** Path of a present file with the manifest's sha256; otherwise a ConfigError naming the file and the places looked at. */
export function resolveModelPath(name: string, location: ModelLocation = {}): string {
  const entry = modelEntry(name);
  const dirs = modelSearchDirs(location);
  const file = dirs.map((d) => path.join(d, name)).find((f) => existsSync(f));
  if (!file) {
    throw new ConfigError(`model file ${name} not found; looked in ${dirs.join(', ')} (run \`facegate models fetch\` or set FACE_MODELS_DIR)`);
  }
  const st = statSync(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  if (verified.get(file) === stamp) return file;
  const actual = sha256OfFile(file);
  if (actual !== entry.sha256) {
    throw new ConfigError(`model file ${file} is altered: sha256 ${actual}, manifest says ${entry.sha256}`);
  }
  verified.set(file, stamp);
  return file;
}

export type SessionOptions = ModelLocation & {
  /** Threads per session; 1 suits a pool of one worker per core (2 cores → 2 workers). */
  intraOpNumThreads?: number;
};

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** The process-wide session of a manifest model, created once (CPU, full graph optimisation). */
export function openModelSession(name: string, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const threads = options.intraOpNumThreads ?? 1;
  // Keyed by name and search path, so the hot path (a detection per frame) touches no file.
  const key = `${name}#${modelSearchDirs(options).join('|')}#${threads}`;
  let session = sessions.get(key);
  if (!session) {
    const file = resolveModelPath(name, options);
    session = ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    // A failed load must not stay cached, or a fixed file would never be picked up.
    session.catch(() => sessions.delete(key));
    sessions.set(key, session);
  }
  return session;
}
