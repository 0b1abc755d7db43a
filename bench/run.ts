/**
 * `npm run bench [-- part …]`: runs every `bench/<part>.bench.ts` (or the named ones) one after
 * another, then writes bench/RESULTS.md (machine, date, each part's section) and merges the
 * figures into bench/results.json so a partial run keeps the other parts' last figures.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchPart, Figure } from './harness.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const parts = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((p) => wanted.length === 0 || wanted.includes(p))
  .sort();

const resultsPath = path.join(dir, 'results.json');
const sectionsPath = path.join(dir, 'sections.json');
const results: Record<string, Figure> = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
const sections: Record<string, { title: string; markdown: string; at: string }> = existsSync(sectionsPath)
  ? JSON.parse(readFileSync(sectionsPath, 'utf8'))
  : {};

for (const part of parts) {
  process.stdout.write(`bench ${part} …\n`);
  const mod = (await import(pathToFileURL(path.join(dir, `${part}.bench.ts`)).href)) as { default: () => Promise<BenchPart> };
  const out = await mod.default();
  Object.assign(results, out.results);
  sections[part] = { title: out.title, markdown: out.markdown, at: new Date().toISOString() };
  for (const [k, v] of Object.entries(out.results)) process.stdout.write(`  ${k} = ${v.value} ${v.unit}\n`);
}

const cpus = os.cpus();
const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}`;
const body = Object.keys(sections)
  .sort()
  .map((k) => `## ${sections[k].title}\n\n_Measured ${sections[k].at.slice(0, 10)}._\n\n${sections[k].markdown.trim()}\n`)
  .join('\n');
writeFileSync(
  path.join(dir, 'RESULTS.md'),
  `# Benchmark results\n\nMachine: ${machine}.\nWritten by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.\n\n${body}`,
);
writeFileSync(resultsPath, JSON.stringify(Object.fromEntries(Object.entries(results).sort()), null, 2) + '\n');
writeFileSync(sectionsPath, JSON.stringify(sections, null, 2) + '\n');
