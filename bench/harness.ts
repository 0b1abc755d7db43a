/** Shared shapes and helpers for benchmark parts (`bench/*.bench.ts`). */
export type Figure = { value: number; unit: string };

export type BenchPart = {
  /** Section title in RESULTS.md. */
  title: string;
  /** Figures merged into bench/results.json, named `layer.what_unit`. */
  results: Record<string, Figure>;
  /** Markdown for the section: method, table, where the time goes. */
  markdown: string;
};

export { percentile, round } from '../src/stats.ts';
