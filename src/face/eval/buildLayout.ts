/**
 * Builds the evaluation layout (`identities/<id>/<file>`, `pad/live/<file>`, `pad/<species>/<file>`)
 * from the shared face collection (../shared/faces, see its README) as symbolic links, so no photo
 * is copied. Identities come from labels.csv; PAD species from the file-name prefix in pad/<source>/
 * (a collection without pad/ gives a layout without it).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { InputError } from '../../errors.ts';
import path from 'node:path';

export interface LabelRow {
  /** Path relative to the collection root, e.g. `faceapi/jim_parsons_1.png`. */
  path: string;
  identity: string;
}

export interface LayoutSummary {
  identities: number;
  images: number;
  /** PAD images per species (`live` included). */
  pad: Record<string, number>;
}

const imageExtension = /\.(jpe?g|png|webp)$/i;

/** Rows of labels.csv (`path,identity,source,license`; no quoted fields in this file). */
export function parseLabels(csv: string): LabelRow[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',') ?? [];
  const pathCol = header.indexOf('path');
  const idCol = header.indexOf('identity');
  if (pathCol < 0 || idCol < 0) throw new InputError('eval.layout', 'labels.csv needs path and identity columns');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return { path: cells[pathCol], identity: cells[idCol] };
  });
}

/**
 * PAD species of a sample from its file name: `live_*`, `print_*`, `replay_*` (any source), and
 * Silent-Face's `image_T*` = live, `image_F1` = print, `image_F2` = replay. Null when unknown.
 */
export function padSpecies(source: string, file: string): string | null {
  if (!imageExtension.test(file)) return null;
  if (source === 'silentface') {
    if (/^image_T\d+\./.test(file)) return 'live';
    if (/^image_F1\./.test(file)) return 'print';
    if (/^image_F2\./.test(file)) return 'replay';
    return null;
  }
  const m = /^([a-z]+)_\d+\./.exec(file);
  return m ? m[1] : null;
}

/** Link name that keeps the source folder visible (`faceapi__jim_parsons_1.png`). */
function linkName(relativePath: string): string {
  return relativePath.split('/').join('__');
}

export function buildEvalLayout(facesDir: string, outDir: string): LayoutSummary {
  const root = path.resolve(facesDir);
  const labels = path.join(root, 'labels.csv');
  if (!existsSync(labels)) throw new InputError('eval.layout', `${labels} does not exist (path,identity columns)`);
  const rows = parseLabels(readFileSync(labels, 'utf8'));
  const identities = new Set<string>();
  for (const row of rows) {
    if (!/^[A-Za-z0-9_-]+$/.test(row.identity)) throw new InputError('eval.layout', `labels.csv: unexpected identity "${row.identity}"`);
    const dir = path.join(outDir, 'identities', row.identity);
    mkdirSync(dir, { recursive: true });
    symlinkSync(path.join(root, row.path), path.join(dir, linkName(row.path)));
    identities.add(row.identity);
  }
  const pad: Record<string, number> = {};
  const padRoot = path.join(root, 'pad');
  if (!existsSync(padRoot)) return { identities: identities.size, images: rows.length, pad };
  for (const source of readdirSync(padRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const file of readdirSync(path.join(padRoot, source)).sort()) {
      const species = padSpecies(source, file);
      if (!species) continue;
      const dir = path.join(outDir, 'pad', species);
      mkdirSync(dir, { recursive: true });
      symlinkSync(path.join(padRoot, source, file), path.join(dir, `${source}__${file}`));
      pad[species] = (pad[species] ?? 0) + 1;
    }
  }
  return { identities: identities.size, images: rows.length, pad };
}
